/**
 * Generation: the prompt in one prefill (batch 1, cache capacity for the whole answer), then one token at
 * a time through a decode plan that shares the cache and moves `past` by rewriting uniforms. Sampling
 * (greedy, temperature, top-p, seeded) happens on the CPU from the one row of logits read per token.
 */
import type { GenerateOptions, LabTokenizer } from '../lab/model';
import { uniformPm1 } from './random';
import { logitsHead, packBatch, roundUp } from './score';
import type { LoadedAdapter, ModelCore } from './model-core';

/** Pick the next token: argmax when temperature is 0, else a seeded draw from the top-p nucleus. */
export function sampleToken(logits: Float32Array, temperature: number, topP: number, rand: () => number): number {
  if (!(temperature > 0)) {
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
  let max = -Infinity;
  for (const x of logits) max = Math.max(max, x);
  const probs = new Float64Array(logits.length);
  let z = 0;
  for (let i = 0; i < logits.length; i++) z += probs[i] = Math.exp((logits[i] - max) / temperature);
  const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a] || a - b);
  // Nucleus: the smallest set of most probable tokens whose mass reaches topP (at least one token).
  let mass = 0;
  let n = 0;
  while (n < order.length && (n === 0 || mass < topP * z)) mass += probs[order[n++]];
  let u = rand() * mass;
  for (let k = 0; k < n; k++) {
    u -= probs[order[k]];
    if (u <= 0) return order[k];
  }
  return order[n - 1];
}

/**
 * New token ids after `prompt`. EOS stops and is not returned; a stop string stops after the token that
 * completes it (that token is returned, so decoding the result ends with the stop string).
 */
export async function generateTokens(core: ModelCore, adapter: LoadedAdapter | null, tokenizer: LabTokenizer, prompt: readonly number[], opts: GenerateOptions): Promise<number[]> {
  if (prompt.length === 0) throw new Error('generate: an empty prompt');
  const lora = core.activate(adapter);
  const maxNew = Math.max(0, Math.floor(opts.maxNewTokens));
  if (maxNew === 0) return [];
  const n = prompt.length;
  const S = roundUp(n, core.quantum);
  // Capacity: the prompt (rounded) and the answer, rounded so that similar requests share plans.
  const L = roundUp(Math.max(S, n + maxNew), 64);
  const tag = `gen${L}`;
  const prefill = core.plan({ B: 1, S, L, past: 0 }, lora, tag);
  const decode = core.plan({ B: 1, S: 1, L, past: 0, settablePast: true, kv: prefill.kv }, lora, tag);
  const pre = logitsHead(prefill, core.w, 1);
  const dec = logitsHead(decode, core.w, 1);
  const rt = core.rt;
  const { ids, positions } = packBatch([prompt], 1, S, 0);
  rt.write(prefill.ids, ids);
  rt.write(prefill.positions, positions);
  rt.write(pre.rows, Uint32Array.of(n - 1));
  rt.write(dec.rows, Uint32Array.of(0));
  core.submit(prefill, pre.ops);
  let logits = await rt.readF32(pre.out);
  const rand = (() => {
    const r = uniformPm1(opts.seed ?? 0);
    return () => (r() + 1) / 2;
  })();
  const eos = new Set(tokenizer.eosTokenIds);
  const stops = (opts.stop ?? []).filter((s) => s.length > 0);
  const out: number[] = [];
  const one = new Uint32Array(1);
  for (let i = 0; i < maxNew; i++) {
    const tok = sampleToken(logits, opts.temperature ?? 0, opts.topP ?? 1, rand);
    if (eos.has(tok)) break;
    out.push(tok);
    if (stops.length) {
      const text = tokenizer.decode(out);
      if (stops.some((s) => text.includes(s))) break;
    }
    if (i === maxNew - 1) break;
    const past = n + i;
    one[0] = tok;
    rt.write(decode.ids, one);
    one[0] = past;
    rt.write(decode.positions, one);
    decode.setPast(past);
    core.submit(decode, dec.ops);
    logits = await rt.readF32(dec.out);
  }
  return out;
}
