// Where a decode token's time goes on this machine's GPU (CPU encode+submit, GPU wait, read-back, and each kernel
// family alone), for SmolLM2-135M and Qwen2.5-0.5B shapes with random weights. Run on a lent GPU with
// `IFT_DEVICE_ENTRY=bench/decode-diag.ts npx vite build --config tools/device/vite.config.ts` (see tools/device).
import { create, globals } from 'webgpu';
import { openDevice } from '../src/engine/device';
import { GpuRuntime } from '../src/engine/runtime';
import { createEngineModel } from '../src/model/engine-model';
import { makeFixture } from '../src/model/fixtures';
import { randomWeights, realSpec } from '../src/model/memory';
import { createTokenizer } from '../src/model/tokenizer';
import { logitsHead, packBatch } from '../src/model/score';

Object.assign(globalThis, globals);
const keepAlive = setInterval(() => {}, 1000);
const rt = new GpuRuntime(await openDevice({ gpu: create([]) as unknown as GPU }));
const fx = makeFixture('tiny-llama');
const tokenizer = createTokenizer(fx.tokenizerJson, fx.tokenizerConfig);
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1].toFixed(3);
for (const name of ['SmolLM2-135M', 'Qwen2.5-0.5B'] as const) {
  const model = await createEngineModel(rt, { spec: realSpec(name), tokenizer, weights: randomWeights(1) }, { precision: 'f16', maxBatch: 1, seqQuantum: 32 });
  const core = model.core;
  const L = 128;
  const prefill = core.plan({ B: 1, S: 32, L, past: 0 }, null, 'diag');
  const decode = core.plan({ B: 1, S: 1, L, past: 0, settablePast: true, kv: prefill.kv }, null, 'diag');
  const dec = logitsHead(decode, core.w, 1);
  const pre = logitsHead(prefill, core.w, 1);
  const { ids, positions } = packBatch([Array.from({ length: 32 }, (_, i) => i + 5)], 1, 32, 0);
  rt.write(prefill.ids, ids);
  rt.write(prefill.positions, positions);
  rt.write(pre.rows, Uint32Array.of(31));
  rt.write(dec.rows, Uint32Array.of(0));
  core.submit(prefill, pre.ops);
  await rt.readF32(pre.out);
  const enc: number[] = [], wait: number[] = [], read: number[] = [], forwardOnly: number[] = [], headOnly: number[] = [];
  const one = new Uint32Array(1);
  for (let i = 0; i < 40; i++) {
    const past = 32 + i;
    one[0] = 7;
    rt.write(decode.ids, one);
    one[0] = past;
    rt.write(decode.positions, one);
    decode.setPast(past);
    const t0 = performance.now();
    core.submit(decode, dec.ops);
    const t1 = performance.now();
    await rt.sync();
    const t2 = performance.now();
    await rt.readF32(dec.out);
    const t3 = performance.now();
    if (i >= 5) { enc.push(t1 - t0); wait.push(t2 - t1); read.push(t3 - t2); }
  }
  for (let i = 0; i < 20; i++) {
    let t = performance.now();
    rt.run(decode.forward, 'fwd');
    await rt.sync();
    forwardOnly.push(performance.now() - t);
    t = performance.now();
    rt.run(dec.ops, 'head');
    await rt.sync();
    headOnly.push(performance.now() - t);
  }
  console.log(`${name}: dispatches fwd ${decode.forward.length} head ${dec.ops.length}; per token ms: encode+submit ${med(enc)}, gpu wait ${med(wait)}, read-back ${med(read)}; forward alone ${med(forwardOnly)}, head alone ${med(headOnly)}`);
  // Per-kernel: time each distinct op of the decode forward alone, 20 reps in one submit.
  const byLabel = new Map<string, number>();
  for (const op of decode.forward) {
    const t = performance.now();
    rt.run(Array(20).fill(op), 'one');
    await rt.sync();
    const ms = (performance.now() - t) / 20;
    const k = op.label.replace(/\d+/g, '#');
    byLabel.set(k, (byLabel.get(k) ?? 0) + ms);
  }
  console.log([...byLabel.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, v]) => `  ${k}: ${v.toFixed(3)} ms`).join('\n'));
  model.dispose();
}
rt.destroy();
clearInterval(keepAlive);
process.exit(0);
