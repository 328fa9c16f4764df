import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileCheckpointSink, runFolderName } from '../../../src/cli/checkpoints';

const state = (step: number) => ({
  config: { rank: 2, alpha: 4, dropout: 0, targets: ['q' as const] },
  step,
  tensors: { 'a.lora_A.weight': Float32Array.from([1.5, -2, step]), 'a.lora_B.weight': new Float32Array([0.25]) },
  optimizer: { m: { 'a.lora_A.weight': Float32Array.from([0.1, 0.2, 0.3]) }, v: { 'a.lora_A.weight': Float32Array.from([1e-8, 2, 3]) } },
});
const fp = { hash: 'abc', parts: { training: '{}', model: 'm' } };
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ckpt-'));

describe('FileCheckpointSink', () => {
  it('round-trips adapter states with their fingerprint and keeps only the latest epoch', async () => {
    const dir = tmp();
    const sink = new FileCheckpointSink(dir);
    expect(await sink.latest('exp/run-1')).toBeUndefined();
    for (let e = 0; e < 11; e++) await sink.save('exp/run-1', e, state(10 * e), fp);
    const got = await sink.latest('exp/run-1');
    expect(got).toEqual({ state: state(100), fingerprint: fp });
    expect(got!.state.tensors['a.lora_A.weight']).toBeInstanceOf(Float32Array);
    expect(await sink.latest('exp/run-2')).toBeUndefined();
    // Older epochs are dropped as the run advances.
    expect(fs.readdirSync(path.join(dir, runFolderName('exp/run-1')))).toEqual(['epoch-0010.json']);
    expect(await sink.bytes('exp/run-1')).toBe(fs.statSync(path.join(dir, runFolderName('exp/run-1'), 'epoch-0010.json')).size);
  });

  it('keeps run ids that differ only in punctuation apart, and never leaves its folder', async () => {
    const dir = tmp();
    const sink = new FileCheckpointSink(dir);
    await sink.save('exp/x', 0, state(1));
    await sink.save('exp_x', 0, state(2));
    await sink.save('..', 0, state(3));
    expect((await sink.latest('exp/x'))!.state.step).toBe(1);
    expect((await sink.latest('exp_x'))!.state.step).toBe(2);
    expect((await sink.latest('..'))!.state.step).toBe(3);
    expect(new Set(['exp/x', 'exp_x', 'exp x', 'exp.x', '..', '.'].map(runFolderName)).size).toBe(6);
    for (const f of fs.readdirSync(dir)) expect(f).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('deletes a run, or every run under a prefix', async () => {
    const dir = tmp();
    const sink = new FileCheckpointSink(dir);
    for (const id of ['e1/a-s1', 'e1/b-s1', 'e10/a-s1']) await sink.save(id, 0, state(1));
    await sink.delete('e1/a-s1');
    expect(await sink.latest('e1/a-s1')).toBeUndefined();
    expect(await sink.latest('e1/b-s1')).toBeDefined();
    await sink.delete('e1/', { prefix: true });
    expect(await sink.latest('e1/b-s1')).toBeUndefined();
    expect(await sink.latest('e10/a-s1')).toBeDefined();
    expect(await sink.bytes('e1/b-s1')).toBe(0);
  });

  it('a failed write leaves the previous checkpoint intact', async () => {
    const dir = tmp();
    const sink = new FileCheckpointSink(dir);
    await sink.save('r', 0, state(5), fp);
    // The next write cannot land (its temporary path is taken by a folder): the save fails, epoch 0 stays.
    fs.mkdirSync(path.join(dir, runFolderName('r'), 'epoch-0001.json.tmp'));
    await expect(sink.save('r', 1, state(10), fp)).rejects.toThrow();
    expect(await sink.latest('r')).toEqual({ state: state(5), fingerprint: fp });
  });
});

describe('checkpoint and progress files under faults', () => {
  it('a checkpoint keeps its loss history', async () => {
    const sink = new FileCheckpointSink(tmp());
    await sink.save('r', 0, state(3), fp, [3, 2.5, 2]);
    expect((await sink.latest('r'))!.losses).toEqual([3, 2.5, 2]);
  });

  it('a truncated checkpoint names its file and what to do', async () => {
    const dir = tmp();
    const sink = new FileCheckpointSink(dir);
    await sink.save('r', 0, state(3), fp);
    const file = path.join(dir, runFolderName('r'), 'epoch-0000.json');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').slice(0, 100));
    const e = await sink.latest('r').then(() => null, (x: Error & { advice?: string }) => x);
    expect(e!.message).toContain(`The checkpoint ${file} is damaged`);
    expect(e!.advice).toMatch(/Delete .*epoch-0000\.json.*--fresh/);
  });

  it('a damaged progress.json is set aside with a warning, not dropped silently', async () => {
    const { FileProgressStore } = await import('../../../src/cli/progress');
    const file = path.join(tmp(), 'progress.json');
    fs.writeFileSync(file, '{"version":1,"fingerprint":"ab');
    const warnings: string[] = [];
    expect(await new FileProgressStore(file, { onWarning: (m) => warnings.push(m) }).load()).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/progress\.json is damaged \(.*\); it was moved to .*progress\.json\.damaged/);
    expect(fs.existsSync(`${file}.damaged`)).toBe(true);
  });

  it.runIf(fs.existsSync('/dev/full'))('a full disk at the progress write says what to free and leaves no .tmp behind', async () => {
    const { FileProgressStore } = await import('../../../src/cli/progress');
    const file = path.join(tmp(), 'progress.json');
    const store = new FileProgressStore(file);
    await store.save({ version: 1, fingerprint: 'f', runs: [] });
    // The temporary file is a link to /dev/full: the write fails with the kernel's real ENOSPC.
    fs.symlinkSync('/dev/full', `${file}.tmp`);
    const e = await store.save({ version: 1, fingerprint: 'g', runs: [] }).then(() => null, (x: Error & { code?: string; advice?: string }) => x);
    expect(e!.code).toBe('storage-full');
    expect(e!.message).toContain(`The disk is full: could not write ${file}`);
    expect(e!.advice).toMatch(/Free space .* run the same command again/);
    expect(fs.existsSync(`${file}.tmp`)).toBe(false);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).fingerprint).toBe('f');
  });
});
