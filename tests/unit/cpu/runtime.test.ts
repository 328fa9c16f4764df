// The CPU runtime's own contract (cpu-runtime.ts): tensors, views and their bounds, copies, reads that
// return copies, the counters; a steady-state training step that allocates nothing; and the dispatch budget
// of tests/gpu/dispatch-budget.test.ts counted on the CPU: its plans run as many ops per layer as WebGPU's.
import { describe, expect, it } from 'vitest';
import { CpuRuntime } from '../../../src/engine/cpu-runtime';
import { OutOfMemoryError } from '../../../src/engine/errors';
import { prepareMatmul } from '../../../src/engine/kernels/matmul/matmul';
import { copyOp, type Op } from '../../../src/engine/tensor';
import type { Runtime } from '../../../src/engine/runtime';
import type { LoraConfig } from '../../../src/lab/model';
import { ModelCore } from '../../../src/model/engine-model';
import { makeFixture } from '../../../src/model/fixtures';
import { countingRuntime, realSpec } from '../../../src/model/memory';
import type { ModelSpec } from '../../../src/model/spec';
import { lossRowsOf, packTrainBatch, trainer, trainStep } from '../../../src/model/train-step';
import { allocLora, buildPlan, loraLayout, packLora, uploadWeights } from '../../../src/model/transformer';
import { initLora } from '../../../src/model/lora';
import { cpuFixtureModel } from '../../helpers/cpu-model';

describe('CpuRuntime: tensors, views, copies, reads', () => {
  it('tensor() zero-fills and pads to 4 bytes; upload() checks the shape and infers the dtype', async () => {
    const rt = new CpuRuntime();
    const t = rt.tensor('t', [3, 5]);
    expect(t.bytes).toBe(60);
    expect(Array.from(await rt.readF32(t))).toEqual(new Array(15).fill(0));
    expect(rt.tensor('h', [3], 'f16').bytes).toBe(8);
    expect(rt.tensor('none', [0]).bytes).toBe(4);
    expect(rt.upload('i', new Int32Array([-1, 2]), [2]).dtype).toBe('i32');
    expect(rt.upload('u', new Uint32Array([1]), [1]).dtype).toBe('u32');
    expect(rt.upload('f', new Uint16Array([1, 2]), [2]).dtype).toBe('f16');
    expect(() => rt.upload('bad', new Float32Array(5), [2, 2])).toThrow(/does not match/);
    expect(() => rt.tensor('huge', [2 ** 30, 4])).toThrow(OutOfMemoryError);
    await expect(rt.readF32(rt.tensor('u', [2], 'u32'))).rejects.toThrow(/u32/);
  });

  it('views: any element offset, nested offsets add up, bounds checked at the end of the buffer', async () => {
    const rt = new CpuRuntime();
    const t = rt.upload('t', Float32Array.from({ length: 10 }, (_, i) => i), [10]);
    const v = rt.view(t, 3, [5]);
    expect(v.offset).toBe(12);
    expect(Array.from(await rt.readF32(v))).toEqual([3, 4, 5, 6, 7]);
    const w = rt.view(v, 2, [2, 2]);
    expect(w.offset).toBe(20);
    expect(Array.from(await rt.readF32(w))).toEqual([5, 6, 7, 8]);
    expect(rt.view(t, 9, [1]).bytes).toBe(4);
    expect(() => rt.view(t, 9, [2])).toThrow(/out of bounds/);
    expect(() => rt.view(v, 3, [5])).toThrow(/out of bounds/); // 3 + 3 + 5 > 10
    // A write through a view lands in the buffer at the view's place, and at a byte offset within it.
    rt.write(v, new Float32Array([-1]), 4);
    expect((await rt.readF32(t))[4]).toBe(-1);
    // An f16 view (2-byte elements) at an odd element offset.
    const h = rt.upload('h', new Uint16Array([1, 2, 3, 4, 5, 6]), [6]);
    expect(Array.from(await rt.read(rt.view(h, 1, [3])))).toEqual([2, 3, 4]);
  });

  it('read() returns a copy: changing it, or the tensor afterwards, leaves the other alone', async () => {
    const rt = new CpuRuntime();
    const t = rt.upload('t', new Float32Array([1, 2, 3]), [3]);
    const a = await rt.readF32(t);
    a[0] = 99;
    expect(Array.from(await rt.readF32(t))).toEqual([1, 2, 3]);
    rt.write(t, new Float32Array([7, 8, 9]));
    expect(Array.from(a)).toEqual([99, 2, 3]);
    expect(rt.counters.readbackBytes).toBe(24);
    expect(rt.counters.uploadBytes).toBe(24);
  });

  it('copyOp moves bytes between tensors and views in order, counted as bytes and not as dispatches', async () => {
    const rt = new CpuRuntime();
    const src = rt.upload('src', Float32Array.from({ length: 8 }, (_, i) => i + 1), [8]);
    const dst = rt.upload('dst', new Float32Array(8).fill(-1), [8]);
    const dv = rt.view(dst, 1, [6]);
    const ops = [copyOp(src, 8, dv, 4, 12), copyOp(dv, 4, src, 0, 4)];
    rt.run(ops);
    expect(Array.from(await rt.readF32(dst))).toEqual([-1, -1, 3, 4, 5, -1, -1, -1]);
    expect(Array.from(await rt.readF32(src))).toEqual([3, 2, 3, 4, 5, 6, 7, 8]);
    expect(rt.counters.dispatches).toBe(0);
    expect(rt.counters.submits).toBe(1);
    expect(rt.counters.bytes).toBe(2 * 12 + 2 * 4);
    expect(() => copyOp(src, 28, dst, 0, 8)).toThrow(/pass the end/);
    expect(() => copyOp(src, 0, dv, 20, 8)).toThrow(/pass the end/);
  });

  it('run() counts dispatches, FLOPs, bytes and submits; a WebGPU op is refused; profile sums ms per op kind', () => {
    const rt = new CpuRuntime();
    let calls = 0;
    const op = rt.op('thing 3x3', 10, 20, () => calls++);
    rt.run([op, op]);
    rt.run([op]);
    expect(calls).toBe(3);
    expect(rt.counters).toMatchObject({ dispatches: 3, submits: 2, flops: 30, bytes: 60 });
    const gpuOp = { label: 'gpu', flops: 0, bytes: 0, pipeline: {}, bindGroup: {}, workgroups: [1, 1, 1] } as unknown as Op;
    expect(() => rt.run([gpuOp])).toThrow(/WebGPU op/);
    rt.profile = new Map();
    rt.run([op, rt.op('other', 0, 0, () => {}), op]);
    expect([...rt.profile.keys()].sort()).toEqual(['other', 'thing']);
    expect(calls).toBe(5);
  });

  it('release, live and peak bytes: released once, views free their buffer, resetPeak, scratch counted', () => {
    const rt = new CpuRuntime();
    const a = rt.tensor('a', [100]);
    const b = rt.tensor('b', [50]);
    expect(rt.counters).toMatchObject({ allocations: 2, liveBytes: 600, peakBytes: 600 });
    rt.release(a);
    rt.release(a);
    expect(rt.counters.liveBytes).toBe(200);
    expect(rt.counters.peakBytes).toBe(600);
    rt.resetPeak();
    expect(rt.counters.peakBytes).toBe(200);
    rt.release(rt.view(b, 10, [5]));
    expect(rt.counters.liveBytes).toBe(0);
    rt.scratch(64);
    expect(rt.counters).toMatchObject({ allocations: 3, liveBytes: 256, peakBytes: 256 });
    rt.scratch(10); // smaller: the same scratch
    expect(rt.counters.allocations).toBe(3);
    rt.scratch(100);
    expect(rt.counters).toMatchObject({ allocations: 4, liveBytes: 400 });
    rt.release({} as GPUBuffer); // a uniform buffer (WebGPU only): ignored
    rt.destroy();
    expect(rt.counters.liveBytes).toBe(0);
  });

  it('a prepared op re-runs without allocating', async () => {
    const rt = new CpuRuntime();
    const op = prepareMatmul(rt, { a: rt.tensor('a', [8, 8]), b: rt.tensor('b', [8, 8]), out: rt.tensor('c', [8, 8]), M: 8, N: 8, K: 8, transA: true, transB: false });
    const allocs = rt.counters.allocations;
    rt.run([op, op, op]);
    await rt.sync();
    expect(rt.counters.allocations).toBe(allocs);
    expect(rt.counters.dispatches).toBe(3);
    expect(rt.counters.flops).toBe(3 * 2 * 8 * 8 * 8);
  });

  it('summary() names the CPU backend and the threads it really runs (one without a way to start workers)', () => {
    const s = new CpuRuntime({ threads: 2, kernels: 'x' }).summary();
    expect(s).toMatchObject({ backend: 'cpu', fallback: false, shaderF16: false });
    expect(s.description).toContain('1 thread,');
  });
});

describe('a CPU training step in steady state', () => {
  for (const dropout of [0, 0.1])
    it(`tiny-llama, LoRA r8 on all projections, dropout ${dropout}, loss rows gathered: nothing allocated, live bytes unchanged, every op run`, async () => {
      const m = await cpuFixtureModel('tiny-llama', { precision: 'f32' });
      const core = m.core;
      const rt = core.rt;
      const [B, S] = [2, 16];
      const examples = [0, 1].map((b) => ({ ids: Array.from({ length: S - b * 3 }, (_, i) => 4 + ((i * 5 + b) % 40)), lossMask: Array.from({ length: S - b * 3 }, (_, i) => (i >= 10 ? 1 : 0)) }));
      const config: LoraConfig = { rank: 8, alpha: 16, dropout, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] };
      const lora = core.slot(config, true);
      rt.write(lora.params, packLora(lora.layout, initLora(m.spec, config, 3)));
      const t = trainer(core, B, S, lora, { maxGradNorm: 1 }, lossRowsOf(examples, B, S));
      expect(t.rows).toBeDefined();
      const batch = packTrainBatch(examples, B, S);
      const kernels = t.ops.filter((op) => !('copy' in op)).length;
      const losses: number[] = [];
      for (let step = 1; step <= 4; step++) {
        const before = { ...rt.counters };
        losses.push((await trainStep(core, t, batch, 1e-2, step, 7)).loss);
        if (step > 1) {
          expect(rt.counters.allocations, `step ${step}`).toBe(before.allocations);
          expect(rt.counters.liveBytes).toBe(before.liveBytes);
        }
        expect(rt.counters.dispatches - before.dispatches).toBe(kernels);
        expect(rt.counters.submits - before.submits).toBe(1);
      }
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses[3]).toBeLessThan(losses[0]);
      m.dispose();
    });
});

// ------------------------------------------------------------ the dispatch budget, counted on the CPU

const qv: LoraConfig = { rank: 8, alpha: 16, dropout: 0, targets: ['q', 'v'] };

/** Ops of a plan on a runtime: forward and backward, per layer (the embedding set aside). */
async function planOps(rt: Runtime, spec: ModelSpec, shape: { B: number; S: number; L: number; train?: boolean; decode?: boolean }, lora: LoraConfig | null) {
  const w = await uploadWeights(rt, spec, 'zeros', 'f32');
  const buffers = lora ? allocLora(rt, loraLayout(spec, lora), Boolean(shape.train)) : null;
  const plan = buildPlan(rt, w, { B: shape.B, S: shape.S, L: shape.L, past: 0, settablePast: shape.decode, train: shape.train, lora: buffers });
  const kinds = (ops: Op[]) => ops.map((op) => op.label.split(' ')[0]);
  return { forward: kinds(plan.forward), backward: kinds(plan.backward ?? []), perLayer: (plan.forward.length - 1) / spec.numLayers };
}

/** Op kinds as both backends name them (the CPU's labels say `_cpu`; WebGPU's say which kernel version). */
function family(kind: string): string {
  return kind
    .replace(/_cpu/, '')
    .replace(/^matmul_gemv_fused3?/, 'gemv_fused')
    .replace(/^matmul_(naive|tiled|vec4|f16w|f16h|gemv|sgmat\w*)/, 'matmul')
    .replace(/^attention_forward(_tiled)?/, 'attention_forward')
    .replace(/^attention_backward_(prep|dq|dkv)(_tiled)?/, 'attention_backward_$1');
}

describe('the CPU runs as many ops per layer as the WebGPU plan (tests/gpu/dispatch-budget.test.ts)', () => {
  const shapes = [
    { name: 'decode (B 1, S 1)', B: 1, S: 1, L: 8, decode: true, lora: null },
    { name: 'decode, LoRA q,v', B: 1, S: 1, L: 8, decode: true, lora: qv },
    { name: 'decode of 8 scored rows', B: 8, S: 1, L: 8, decode: true, lora: null },
    { name: 'prefill (B 2, S 16)', B: 2, S: 16, L: 16, lora: null },
    { name: 'training, LoRA q,v', B: 2, S: 16, L: 16, train: true, lora: qv },
    { name: 'training, LoRA on all seven', B: 2, S: 16, L: 16, train: true, lora: { ...qv, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] } as LoraConfig },
  ];
  const specs: [string, ModelSpec][] = [
    ['tiny-llama', makeFixture('tiny-llama').spec],
    ['tiny-qwen2 (biases)', makeFixture('tiny-qwen2').spec],
    ['SmolLM2-135M shapes, 2 layers', realSpec('SmolLM2-135M', { numLayers: 2, vocabSize: 256 })],
  ];
  for (const [name, spec] of specs)
    it(name, async () => {
      for (const s of shapes) {
        const gpu = await planOps(countingRuntime(), spec, s, s.lora);
        const cpu = await planOps(new CpuRuntime(), spec, s, s.lora);
        expect(cpu.forward.length, `${s.name} forward`).toBe(gpu.forward.length);
        expect(cpu.backward.length, `${s.name} backward`).toBe(gpu.backward.length);
        // Op for op the same kind of work in the same order.
        expect(cpu.forward.map(family), s.name).toEqual(gpu.forward.map(family));
        expect(cpu.backward.map(family), s.name).toEqual(gpu.backward.map(family));
      }
      // The budget the WebGPU suite asserts: 6 per layer at decode, 11 with LoRA on q and v, 15 training.
      expect((await planOps(new CpuRuntime(), spec, shapes[0], null)).perLayer).toBe(6);
      expect((await planOps(new CpuRuntime(), spec, shapes[1], qv)).perLayer).toBe(11);
      expect((await planOps(new CpuRuntime(), spec, shapes[4], qv)).perLayer).toBe(15);
    });

  it('a whole training step (tiny-llama): the same ops as WebGPU but its split-gradient reduce', async () => {
    const spec = makeFixture('tiny-llama').spec;
    const kinds = async (rt: Runtime) => {
      const core = new ModelCore(rt, await uploadWeights(rt, spec, 'zeros', 'f32'), { maxBatch: 2 });
      return trainer(core, 2, 16, core.slot(qv, true), {}, 8).ops.map((op) => family(op.label.split(' ')[0]));
    };
    const gpu = await kinds(countingRuntime());
    const cpu = await kinds(new CpuRuntime());
    expect(cpu).toEqual(gpu.filter((k) => k !== 'ce_reduce'));
  });
});
