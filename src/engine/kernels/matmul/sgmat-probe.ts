import { f32ToF16Array, roundToF16 } from '../../convert';
import { uniformArray } from '../../random';
import type { GpuRuntime, Tensor } from '../../runtime';
import { prepareMatmul } from './matmul';
import { matmulRef } from './matmul.ref';

/**
 * Run the tensor-core matmul once, on an awkward shape (no dimension a multiple of its tiles, a partial K
 * step), against the CPU reference on the same f16-rounded operands. Returns null when it agrees, else what
 * went wrong: openDevice then turns the path off and reports why, so that a driver whose cooperative
 * matrices misbehave costs speed, never results.
 */
export async function probeSubgroupMatrix(rt: GpuRuntime): Promise<string | null> {
  const sg = rt.engine.subgroupMatrix;
  if (!sg) return 'not offered';
  // The extension is experimental and its load/store spelling has changed between drafts: try both.
  const problems: string[] = [];
  for (const syntax of ['bool', 'template'] as const) {
    rt.engine.subgroupMatrix = { ...sg, syntax };
    const problem = await probeOnce(rt);
    if (!problem) return null;
    problems.push(`${syntax}: ${problem}`);
  }
  rt.engine.subgroupMatrix = sg;
  return problems.join('; ');
}

async function probeOnce(rt: GpuRuntime): Promise<string | null> {
  const [M, N, K] = [37, 45, 70];
  const a = uniformArray(M * K, 11, 1);
  const b = uniformArray(N * K, 12, 1);
  const made: Tensor[] = [];
  try {
    const A = rt.upload('sgmat probe a', a, [M, K]);
    const B = rt.upload('sgmat probe b', f32ToF16Array(b), [N, K], 'f16');
    const C = rt.tensor('sgmat probe c', [M, N]);
    made.push(A, B, C);
    const op = await rt.guard('sgmat probe (compile)', () => prepareMatmul(rt, { a: A, b: B, out: C, M, N, K }, 'sgmat'));
    if (!op.label.startsWith('matmul_sgmat')) return `not chosen (${op.label})`;
    await rt.guard('sgmat probe (run)', () => rt.run([op], 'sgmat probe'));
    const got = await rt.readF32(C);
    const want = matmulRef(roundToF16(a), roundToF16(b), { M, N, K });
    let worst = 0;
    for (let i = 0; i < want.length; i++) {
      const e = Math.abs(got[i] - want[i]);
      if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : e;
    }
    // Both operands are exactly f16 here; f32 accumulation of 70 products in any order stays far below this.
    return worst <= 1e-3 ? null : `max |error| ${worst} against the CPU reference`;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    for (const t of made) rt.release(t);
  }
}
