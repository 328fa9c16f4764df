/**
 * What decides a training run, hashed: a checkpoint carries it, and is resumed only into a run with the same
 * fingerprint (a changed lr, rank, dataset, model or engine starts fresh instead of silently reusing weights).
 */
import { sha256Hex } from './hash';
import type { TrainConfig, TrainExample } from './model';

/** The parts of a fingerprint, each a string, so that a mismatch can say which part changed and how. */
export interface RunFingerprint {
  hash: string;
  parts: Record<string, string>;
}

/** JSON with object keys sorted, so that equal values hash equally whatever order their keys were written in. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

/** Hash of the token ids and loss masks: the dataset as the model sees it (items, template and tokenizer). */
export async function examplesHash(examples: readonly TrainExample[]): Promise<string> {
  let n = 0;
  for (const e of examples) n += 2 + 2 * e.ids.length;
  const words = new Int32Array(n);
  let i = 0;
  for (const e of examples) {
    words[i++] = e.ids.length;
    words.set(e.ids, i);
    i += e.ids.length;
    words.set(e.lossMask, i);
    i += e.lossMask.length;
    words[i++] = -1;
  }
  return sha256Hex(new Uint8Array(words.buffer));
}

export interface FingerprintInput {
  config: TrainConfig;
  examples: readonly TrainExample[];
  modelId: string;
  /** Whatever else decides the run (weights hash, engine version); null and undefined are left out. */
  identity?: Readonly<Record<string, string | null | undefined>>;
}

export async function runFingerprint(i: FingerprintInput): Promise<RunFingerprint> {
  const parts: Record<string, string> = { training: stableJson(i.config), examples: await examplesHash(i.examples), model: i.modelId };
  for (const [k, v] of Object.entries(i.identity ?? {})) if (v !== null && v !== undefined) parts[k] = v;
  return { hash: await sha256Hex(stableJson(parts)), parts };
}

function flatten(v: unknown, prefix: string, out: Map<string, string>): void {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, JSON.stringify(v));
}

const WORDS: Record<string, string> = {
  examples: 'the training examples (dataset, template or tokenizer)',
  model: 'the model',
  weightsHash: 'the model weights',
  engineVersion: 'the engine version',
  inputs: 'the input files (questions, few-shot or general data)',
};

/** In words, what differs between a checkpoint's fingerprint and the run's: "learningRate 0.0001 → 0.005". */
export function describeChanges(was: RunFingerprint | undefined, now: RunFingerprint): string[] {
  if (!was) return ['the checkpoint has no fingerprint (an older version of the lab wrote it)'];
  const out: string[] = [];
  const keys = [...new Set([...Object.keys(was.parts), ...Object.keys(now.parts)])];
  for (const k of keys) {
    const a = was.parts[k];
    const b = now.parts[k];
    if (a === b) continue;
    if (k === 'training' && a !== undefined && b !== undefined) {
      const fa = new Map<string, string>();
      const fb = new Map<string, string>();
      flatten(JSON.parse(a), '', fa);
      flatten(JSON.parse(b), '', fb);
      for (const f of [...new Set([...fa.keys(), ...fb.keys()])]) {
        if (fa.get(f) !== fb.get(f)) out.push(`${f} ${fa.get(f) ?? '(unset)'} → ${fb.get(f) ?? '(unset)'}`);
      }
    } else if (k === 'examples') out.push(`${WORDS[k]} changed`);
    else out.push(`${WORDS[k] ?? k} ${a ?? '(unset)'} → ${b ?? '(unset)'}`);
  }
  if (out.length === 0 && was.hash !== now.hash) out.push('the fingerprint differs');
  return out;
}
