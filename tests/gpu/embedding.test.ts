import { describe, expect, it } from 'vitest';
import { prepareEmbedding, prepareRowGather } from '../../src/engine/kernels/embedding/embedding';
import { embeddingRef } from '../../src/engine/kernels/embedding/embedding.ref';
import { f32ToF16Array, roundToF16 } from '../../src/engine/convert';
import { randn, testRuntime } from '../helpers/gpu';

describe('embedding gather', () => {
  for (const f16 of [false, true]) {
    for (const [V, D, T] of [
      [1, 1, 1],
      [11, 7, 5], // odd D: packed-f16 rows straddle u32 words
      [50, 33, 19],
    ]) {
      it(`${f16 ? 'packed f16' : 'f32'} table V=${V} D=${D} T=${T}`, async () => {
        const rt = await testRuntime();
        const table = randn(V * D, V + D, 2);
        // Repeated ids, the last row, and one out-of-range id (→ zero row).
        const ids = Uint32Array.from({ length: T }, (_, t) => (t === T - 1 && T > 1 ? V + 3 : (t * 7) % V));
        const out = rt.tensor('out', [T, D]);
        const tab = f16 ? rt.upload('table', f32ToF16Array(table), [V, D]) : rt.upload('table', table, [V, D]);
        rt.run([prepareEmbedding(rt, { ids: rt.upload('ids', ids, [T]), table: tab, out, T, D, V })]);
        const got = await rt.readF32(out);
        // A gather is exact: equal to the (f16-rounded) table rows bit for bit.
        expect(Array.from(got)).toEqual(Array.from(embeddingRef(ids, f16 ? roundToF16(table) : table, D, V)));
        rt.destroy();
      });
    }
  }
});

describe('row gather (the loss rows of a training step, and their gradient put back)', () => {
  for (const [n, D, R] of [
    [5, 13, 7], // more rows out than in: repeats and "none" rows
    [300, 64, 3], // a few loss rows out of a batch
  ]) {
    it(`R=${R} rows of an [${n}, ${D}] matrix`, async () => {
      const rt = await testRuntime();
      const x = randn(n * D, n + D, 3);
      const rows = Uint32Array.from({ length: R }, (_, r) => (r % 3 === 2 ? 0xffffffff : (r * 11) % n));
      const out = rt.tensor('out', [R, D]);
      rt.run([prepareRowGather(rt, { rows: rt.upload('rows', rows, [R]), x: rt.upload('x', x, [n, D]), out, R, n, D })]);
      expect(Array.from(await rt.readF32(out))).toEqual(Array.from(embeddingRef(rows, x, D, n)));
      rt.destroy();
    });
  }
});
