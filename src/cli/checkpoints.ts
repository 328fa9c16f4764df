/** Checkpoints as files for the CLI: `<dir>/<run>/epoch-<n>.json`, tensors base64-encoded little-endian f32. */
import fs from 'node:fs';
import path from 'node:path';
import type { AdapterState } from '../lab/model';
import type { CheckpointSink } from '../lab/train';

const enc = (t: Float32Array) => Buffer.from(t.buffer, t.byteOffset, t.byteLength).toString('base64');
const dec = (s: string) => {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const encAll = (r: Record<string, Float32Array>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, enc(v)]));
const decAll = (r: Record<string, string>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, dec(v)]));

export class FileCheckpointSink implements CheckpointSink {
  constructor(readonly dir: string) {}

  private runDir(runId: string): string {
    return path.join(this.dir, runId.replace(/[^A-Za-z0-9._-]+/g, '_'));
  }

  async save(runId: string, epoch: number, s: AdapterState): Promise<void> {
    const dir = this.runDir(runId);
    fs.mkdirSync(dir, { recursive: true });
    const body = { config: s.config, step: s.step, tensors: encAll(s.tensors), optimizer: s.optimizer ? { m: encAll(s.optimizer.m), v: encAll(s.optimizer.v) } : undefined };
    // Write then rename, so a crash never leaves a half-written latest checkpoint.
    const file = path.join(dir, `epoch-${String(epoch).padStart(4, '0')}.json`);
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(body));
    fs.renameSync(`${file}.tmp`, file);
  }

  async latest(runId: string): Promise<AdapterState | undefined> {
    const dir = this.runDir(runId);
    if (!fs.existsSync(dir)) return undefined;
    const last = fs.readdirSync(dir).filter((f) => /^epoch-\d+\.json$/.test(f)).sort().at(-1);
    if (!last) return undefined;
    const b = JSON.parse(fs.readFileSync(path.join(dir, last), 'utf8'));
    return { config: b.config, step: b.step, tensors: decAll(b.tensors), optimizer: b.optimizer ? { m: decAll(b.optimizer.m), v: decAll(b.optimizer.v) } : undefined };
  }
}
