import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openFsStore } from '../../helpers/fs-store';

const dirs: string[] = [];
async function fresh() {
  const d = await mkdtemp(join(tmpdir(), 'ift-store-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('file store (Node)', () => {
  it('round-trips records with typed arrays exactly, lists oldest first and by run', async () => {
    const s = openFsStore(await fresh());
    const w = new Float32Array([1.5, -0, Number.MIN_VALUE, 3.4e38]);
    await s.put('checkpoints', { id: 'b', createdAt: 2, runId: 'r1', tensors: { a: w } });
    await s.put('checkpoints', { id: 'a', createdAt: 1, runId: 'r1' });
    await s.put('checkpoints', { id: 'c', createdAt: 3, runId: 'r2' });
    const got = await s.get<{ id: string; createdAt: number; tensors: { a: Float32Array } }>('checkpoints', 'b');
    expect(got?.tensors.a).toBeInstanceOf(Float32Array);
    expect(Array.from(got!.tensors.a)).toEqual(Array.from(w));
    expect((await s.list('checkpoints')).map((r) => r.id)).toEqual(['a', 'b', 'c']);
    expect((await s.list('checkpoints', { runId: 'r1' })).map((r) => r.id)).toEqual(['a', 'b']);
    await s.delete('checkpoints', 'a');
    expect(await s.get('checkpoints', 'a')).toBeUndefined();
    expect(await s.list('runs')).toEqual([]);
  });

  it('keeps hostile ids inside its directory', async () => {
    const d = await fresh();
    const s = openFsStore(d);
    await s.put('runs', { id: '../../etc/passwd', createdAt: 1 });
    expect(await readdir(join(d, 'runs'))).toHaveLength(1);
    expect((await s.get('runs', '../../etc/passwd'))?.id).toBe('../../etc/passwd');
  });

  it('lists ids, all or by prefix, without reading the records (what checkpoint cleanup uses)', async () => {
    const s = openFsStore(await fresh());
    expect(await s.keys('checkpoints')).toEqual([]);
    for (const id of ['exp1/a#latest', 'exp1/b#latest', 'exp10/a#latest', 'x.y%z']) await s.put('checkpoints', { id, createdAt: 1 });
    expect(await s.keys('checkpoints')).toEqual(['exp1/a#latest', 'exp1/b#latest', 'exp10/a#latest', 'x.y%z']);
    expect(await s.keys('checkpoints', { prefix: 'exp1/' })).toEqual(['exp1/a#latest', 'exp1/b#latest']);
  });
});
