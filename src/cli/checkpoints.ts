/**
 * Checkpoints as files for the CLI: `<dir>/<run>/epoch-<n>.json`, tensors base64-encoded little-endian f32,
 * with the fingerprint of the run that wrote them. Only the latest checkpoint of a run is kept.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LabError } from '../lab/errors';
import type { AdapterState } from '../lab/model';
import type { RunFingerprint } from '../lab/fingerprint';
import type { Checkpoint, CheckpointSink, ResumePolicy } from '../lab/train';

const enc = (t: Float32Array) => Buffer.from(t.buffer, t.byteOffset, t.byteLength).toString('base64');
const dec = (s: string) => {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const encAll = (r: Record<string, Float32Array>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, enc(v)]));
const decAll = (r: Record<string, string>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, dec(v)]));

/**
 * A run id as one folder name, one-to-one: letters, digits and `-` stay, every other byte becomes `_hh`
 * (so `exp/x` → `exp_2fx` and `exp_x` → `exp_5fx` never share a folder, and `..` cannot climb out).
 */
export function runFolderName(runId: string): string {
  let out = '';
  for (const b of new TextEncoder().encode(runId)) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9-]/.test(c) ? c : `_${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}

export interface FileSinkOptions {
  identity?: CheckpointSink['identity'];
  resume?: ResumePolicy;
}

const EPOCH_FILE = /^epoch-\d+\.json$/;

export class FileCheckpointSink implements CheckpointSink {
  constructor(
    readonly dir: string,
    private readonly opts: FileSinkOptions = {},
  ) {}

  get identity() {
    return this.opts.identity;
  }
  get resume() {
    return this.opts.resume;
  }

  private runDir(runId: string): string {
    return path.join(this.dir, runFolderName(runId));
  }

  private files(dir: string): string[] {
    return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => EPOCH_FILE.test(f)).sort() : [];
  }

  async save(runId: string, epoch: number, s: AdapterState, fingerprint?: RunFingerprint, losses?: readonly number[]): Promise<void> {
    const dir = this.runDir(runId);
    fs.mkdirSync(dir, { recursive: true });
    const body = {
      runId,
      fingerprint,
      config: s.config,
      step: s.step,
      tensors: encAll(s.tensors),
      optimizer: s.optimizer ? { m: encAll(s.optimizer.m), v: encAll(s.optimizer.v) } : undefined,
      losses,
    };
    // Write then rename, so a crash or a full disk never leaves a half-written latest checkpoint; the
    // older ones go only once the new one is in place.
    const name = `epoch-${String(epoch).padStart(4, '0')}.json`;
    const file = path.join(dir, name);
    try {
      fs.writeFileSync(`${file}.tmp`, JSON.stringify(body));
    } catch (e) {
      try {
        fs.rmSync(`${file}.tmp`, { force: true });
      } catch {
        // Nothing was written, or it cannot be removed: the previous checkpoint is what counts.
      }
      const code = (e as { code?: string }).code;
      if (code === 'ENOSPC' || code === 'EDQUOT') {
        throw Object.assign(new Error(`The disk is full: could not write the checkpoint of ${runId} (epoch ${epoch + 1}); the previous checkpoint is intact.`), {
          code: 'storage-full',
          advice: `Free space on the disk holding ${this.dir} (old runs' checkpoints folders can go), then run the same command again to resume.`,
        });
      }
      throw e;
    }
    fs.renameSync(`${file}.tmp`, file);
    for (const f of this.files(dir)) if (f !== name) fs.rmSync(path.join(dir, f), { force: true });
  }

  async latest(runId: string): Promise<Checkpoint | undefined> {
    const dir = this.runDir(runId);
    const last = this.files(dir).at(-1);
    if (!last) return undefined;
    const file = path.join(dir, last);
    let b;
    try {
      b = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (!b || typeof b !== 'object' || typeof b.step !== 'number' || !b.tensors || typeof b.tensors !== 'object') throw new Error('it is not a checkpoint');
    } catch (e) {
      throw new LabError(
        'checkpoint-damaged',
        `The checkpoint ${file} is damaged (${(e as Error).message}); it cannot be resumed.`,
        `Delete ${file} to train run ${runId} from its start (other runs keep their checkpoints), or run with --fresh to start every run again.`,
      );
    }
    const state: AdapterState = { config: b.config, step: b.step, tensors: decAll(b.tensors), optimizer: b.optimizer ? { m: decAll(b.optimizer.m), v: decAll(b.optimizer.v) } : undefined };
    return { state, fingerprint: b.fingerprint, ...(Array.isArray(b.losses) ? { losses: b.losses } : {}) };
  }

  async delete(runId: string, opts: { prefix?: boolean } = {}): Promise<void> {
    if (!opts.prefix) return fs.rmSync(this.runDir(runId), { recursive: true, force: true });
    const head = runFolderName(runId);
    if (!fs.existsSync(this.dir)) return;
    for (const f of fs.readdirSync(this.dir)) if (f.startsWith(head)) fs.rmSync(path.join(this.dir, f), { recursive: true, force: true });
  }

  async bytes(runId: string): Promise<number> {
    const dir = this.runDir(runId);
    return this.files(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
  }
}
