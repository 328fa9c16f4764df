// Where a LoRA training step's time goes on this machine's GPU: each prepared op of the step timed alone
// (repeated in one submit), summed by kernel family, beside the whole step. SmolLM2-135M shapes, random
// weights, packed f16, seq 256 × batch 8, LoRA r8 on q and v. Build like bench/decode-diag.ts.
import { create, globals } from 'webgpu';
import { openDevice } from '../src/engine/device';
import { GpuRuntime } from '../src/engine/runtime';
import { createEngineModel } from '../src/model/engine-model';
import { makeFixture } from '../src/model/fixtures';
import { randomWeights, realSpec } from '../src/model/memory';
import { createTokenizer } from '../src/model/tokenizer';
import { packTrainBatch, trainer, trainStep } from '../src/model/train-step';

Object.assign(globalThis, globals);
const keepAlive = setInterval(() => {}, 1000);
const rt = new GpuRuntime(await openDevice({ gpu: create([]) as unknown as GPU }));
const fx = makeFixture('tiny-llama');
const tokenizer = createTokenizer(fx.tokenizerJson, fx.tokenizerConfig);
const [B, S] = [8, 256];
const model = await createEngineModel(rt, { spec: realSpec('SmolLM2-135M'), tokenizer, weights: randomWeights(1) }, { precision: 'f16', maxBatch: B, seqQuantum: S });
const core = model.core;
const slot = core.slot({ rank: 8, alpha: 16, dropout: 0, targets: ['q', 'v'] }, true);
const t = trainer(core, B, S, slot, { maxGradNorm: 1 });
rt.write(slot.params, new Float32Array(slot.layout.n));
const prompts = Array.from({ length: B }, (_, b) => Array.from({ length: S }, (_, i) => (i * 7919 + b * 104729) % 30000));
const batch = packTrainBatch(prompts.map((ids) => ({ ids, lossMask: ids.map((_, i) => (i >= S / 2 ? 1 : 0)) })), B, S);
for (let i = 0; i < 3; i++) await trainStep(core, t, batch, 1e-4, i + 1);
const steps: number[] = [];
for (let i = 0; i < 5; i++) {
  const s0 = performance.now();
  await trainStep(core, t, batch, 1e-4, i + 4);
  steps.push(performance.now() - s0);
}
steps.sort((a, b) => a - b);
const fam = new Map<string, { ms: number; n: number; flops: number }>();
let sum = 0;
for (const op of t.ops) {
  const reps = 5;
  const t0 = performance.now();
  rt.run(Array(reps).fill(op), 'one');
  await rt.sync();
  const ms = (performance.now() - t0) / reps;
  sum += ms;
  const k = op.label;
  const f = fam.get(k) ?? { ms: 0, n: 0, flops: 0 };
  f.ms += ms;
  f.n++;
  f.flops += op.flops;
  fam.set(k, f);
}
console.log(`step median ${steps[2].toFixed(1)} ms, ${t.ops.length} ops; ops timed alone sum to ${sum.toFixed(1)} ms`);
for (const [k, f] of [...fam.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) {
  console.log(`  ${f.ms.toFixed(2).padStart(8)} ms ${String(f.n).padStart(4)}×  ${(f.flops / f.ms / 1e9).toFixed(2).padStart(7)} TFLOP/s  ${k}`);
}
model.dispose();
rt.destroy();
clearInterval(keepAlive);
process.exit(0);
