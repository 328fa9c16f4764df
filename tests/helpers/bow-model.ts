/**
 * A small but real language model behind the lab's `LabModel` interface, for the unit suite until the
 * WebGPU model lands: a word-level tokenizer with a chat template, and a log-linear next-token model
 *
 *   logits[w] = bias[w] + prev[h(previous token), w] + (1/√m) Σ_{b ∈ bag} assoc[b, w]
 *
 * where `bag` is the set of m hashed buckets of the last `window` context tokens. Its log-probs are a true
 * softmax over the whole vocabulary; `train` runs Adam with the configured schedule, clipping and seed on an
 * adapter (a delta over every parameter) using only loss-masked positions, so what the lab builds is really
 * fitted — or not — and the probe, datasets, training and evaluation are exercised end to end.
 */
import { NonFiniteError } from '../../src/engine/errors';
import type {
  AdapterRef,
  AdapterState,
  ChatMessage,
  ContinuationRequest,
  GenerateOptions,
  LabModel,
  LabTokenizer,
  NextTokenRequest,
  StepEvent,
  TrainConfig,
  TrainExample,
  TrainHooks,
} from '../../src/lab/model';
import { rng, shuffled } from '../../src/lab/random';

const SPECIALS = ['<s>', '<unk>', '<|end|>', '<|user|>', '<|assistant|>', '<|system|>'];
const PIECE = / ?[A-Za-z0-9]+| ?[^\sA-Za-z0-9]|\s+(?!\S)|\s+/g;

export class WordTokenizer implements LabTokenizer {
  readonly vocab: string[];
  private readonly index = new Map<string, number>();
  readonly bosTokenId = 0;
  readonly eosTokenIds: readonly number[] = [2];

  /** The vocabulary is every piece of `corpus` plus the option letters in both spellings. */
  constructor(corpus: readonly string[]) {
    this.vocab = [...SPECIALS];
    const add = (p: string) => {
      if (!this.index.has(p)) {
        this.index.set(p, this.vocab.length);
        this.vocab.push(p);
      }
    };
    SPECIALS.forEach((s, i) => this.index.set(s, i));
    for (const l of ['A', 'B', 'C', 'D']) {
      add(l);
      add(` ${l}`);
    }
    for (const text of corpus) for (const p of this.pieces(text)) if (!SPECIALS.includes(p)) add(p);
  }

  get vocabSize(): number {
    return this.vocab.length;
  }

  private pieces(text: string): string[] {
    const out: string[] = [];
    for (const part of text.split(/(<s>|<unk>|<\|end\|>|<\|user\|>|<\|assistant\|>|<\|system\|>)/)) {
      if (part === '') continue;
      if (SPECIALS.includes(part)) out.push(part);
      else out.push(...(part.match(PIECE) ?? []));
    }
    return out;
  }

  encode(text: string): number[] {
    return this.pieces(text).map((p) => this.index.get(p) ?? 1);
  }

  decode(ids: readonly number[]): string {
    return ids.map((i) => this.vocab[i] ?? '<unk>').join('');
  }

  applyChatTemplate(messages: readonly ChatMessage[], opts: { addGenerationPrompt?: boolean } = {}): string {
    let s = '<s>';
    for (const m of messages) s += `<|${m.role}|>\n${m.content}<|end|>\n`;
    if (opts.addGenerationPrompt) s += '<|assistant|>\n';
    return s;
  }
}

interface Params {
  bias: Float32Array;
  prev: Float32Array;
  assoc: Float32Array;
}

const NAMES = ['bow.bias', 'bow.prev', 'bow.assoc'] as const;

export interface BowOptions {
  buckets?: number;
  window?: number;
}

export class BowModel implements LabModel {
  readonly id: string;
  readonly tokenizer: WordTokenizer;
  private readonly V: number;
  private readonly H: number;
  private readonly window: number;
  private readonly base: Params;
  private readonly adapters = new Map<string, Params>();
  private nextAdapter = 0;
  /** Counters a test can read: calls and prompt tokens scored (the shared prefix counted once per call). */
  readonly calls = { nextToken: 0, prefixTokens: 0, promptTokens: 0, generate: 0, train: 0 };

  constructor(tokenizer: WordTokenizer, opts: BowOptions & { id?: string } = {}) {
    this.tokenizer = tokenizer;
    this.id = opts.id ?? 'test:bow';
    this.V = tokenizer.vocabSize;
    this.H = opts.buckets ?? 128;
    this.window = opts.window ?? 48;
    this.base = this.zeros();
  }

  private zeros(): Params {
    return { bias: new Float32Array(this.V), prev: new Float32Array(this.H * this.V), assoc: new Float32Array(this.H * this.V) };
  }


  private h(id: number): number {
    return (Math.imul(id + 1, 2654435761) >>> 0) % this.H;
  }

  /** Context features at a position: previous-token bucket and the bag of distinct buckets in the window. */
  private features(ctx: readonly number[]): { prev: number; bag: number[] } {
    const prev = ctx.length ? this.h(ctx[ctx.length - 1]) : 0;
    const bag = [...new Set(ctx.slice(-this.window).map((t) => this.h(t)))];
    return { prev, bag };
  }

  private logits(ctx: readonly number[], delta: Params | undefined, out: Float64Array): { prev: number; bag: number[] } {
    const f = this.features(ctx);
    const V = this.V;
    const s = f.bag.length ? 1 / Math.sqrt(f.bag.length) : 0;
    for (const P of delta ? [this.base, delta] : [this.base]) {
      for (let w = 0; w < V; w++) out[w] += P.bias[w] + P.prev[f.prev * V + w];
      for (const b of f.bag) {
        const row = b * V;
        for (let w = 0; w < V; w++) out[w] += s * P.assoc[row + w];
      }
    }
    return f;
  }

  /** Log-softmax over the whole vocabulary, in place. */
  private logSoftmax(x: Float64Array): void {
    let m = -Infinity;
    for (const v of x) if (v > m) m = v;
    let z = 0;
    for (const v of x) z += Math.exp(v - m);
    const lz = m + Math.log(z);
    for (let i = 0; i < x.length; i++) x[i] -= lz;
  }

  private adapter(ref: AdapterRef | null | undefined): Params | undefined {
    if (!ref) return undefined;
    const a = this.adapters.get(ref.id);
    if (!a) throw new Error(`adapter ${ref.id} is not loaded`);
    return a;
  }

  private logProbsAt(ctx: readonly number[], delta: Params | undefined): Float64Array {
    const x = new Float64Array(this.V);
    this.logits(ctx, delta, x);
    this.logSoftmax(x);
    return x;
  }

  async nextTokenLogProbs(req: NextTokenRequest): Promise<Float32Array[]> {
    const delta = this.adapter(req.adapter);
    const prefix = req.prefix ?? [];
    this.calls.nextToken++;
    this.calls.prefixTokens += prefix.length;
    return req.prompts.map((p) => {
      this.calls.promptTokens += p.length;
      const lp = this.logProbsAt([...prefix, ...p], delta);
      return Float32Array.from(req.candidates, (c) => lp[c]);
    });
  }

  async continuationLogProbs(req: ContinuationRequest): Promise<number[]> {
    const delta = this.adapter(req.adapter);
    return req.prompts.map((p, i) => {
      const ctx = [...p];
      let s = 0;
      for (const t of req.continuations[i]) {
        s += this.logProbsAt(ctx, delta)[t];
        ctx.push(t);
      }
      return s;
    });
  }

  async generate(prompt: readonly number[], opts: GenerateOptions): Promise<number[]> {
    this.calls.generate++;
    const delta = this.adapter(opts.adapter);
    const r = rng(opts.seed ?? 0);
    const ctx = [...prompt];
    const out: number[] = [];
    for (let i = 0; i < opts.maxNewTokens; i++) {
      const lp = this.logProbsAt(ctx, delta);
      lp[1] = -Infinity; // never <unk>
      let t = 0;
      if (!opts.temperature) {
        for (let w = 1; w < lp.length; w++) if (lp[w] > lp[t]) t = w;
      } else {
        const p = Array.from(lp, (v) => Math.exp(v / opts.temperature!));
        const z = p.reduce((a, b) => a + b, 0);
        let u = r() * z;
        while (t < p.length - 1 && (u -= p[t]) > 0) t++;
      }
      if (this.tokenizer.eosTokenIds.includes(t)) break;
      out.push(t);
      ctx.push(t);
      const text = this.tokenizer.decode(out);
      if (opts.stop?.some((s) => text.endsWith(s))) break;
    }
    return out;
  }

  /** Fits the base weights to whole texts (every token a target): the model's "pretraining". */
  async pretrain(texts: readonly string[], config: TrainConfig): Promise<void> {
    const examples = texts.map((t) => {
      const ids = this.tokenizer.encode(t);
      return { ids, lossMask: ids.map((_, i) => (i === 0 ? 0 : 1)) };
    });
    this.absorb(await this.train(examples, config));
  }

  /** Folds a trained adapter into the base weights (the result of "pretraining"). */
  absorb(state: AdapterState): void {
    const d = this.fromState(state);
    for (const k of ['bias', 'prev', 'assoc'] as const) for (let i = 0; i < d[k].length; i++) this.base[k][i] += d[k][i];
  }

  private fromState(state: AdapterState): Params {
    const get = (n: string, len: number) => {
      const t = state.tensors[n];
      if (!t || t.length !== len) throw new Error(`adapter tensor ${n} is missing or has the wrong size`);
      return Float32Array.from(t);
    };
    return { bias: get(NAMES[0], this.V), prev: get(NAMES[1], this.H * this.V), assoc: get(NAMES[2], this.H * this.V) };
  }

  async train(examples: readonly TrainExample[], config: TrainConfig, hooks: TrainHooks = {}): Promise<AdapterState> {
    this.calls.train++;
    const V = this.V;
    const delta = hooks.resumeFrom ? this.fromState(hooks.resumeFrom) : this.zeros();
    const keys = ['bias', 'prev', 'assoc'] as const;
    const m = hooks.resumeFrom?.optimizer ? this.fromStateMoments(hooks.resumeFrom.optimizer.m) : this.zeros();
    const v = hooks.resumeFrom?.optimizer ? this.fromStateMoments(hooks.resumeFrom.optimizer.v) : this.zeros();
    const grad = this.zeros();
    const perEpoch = Math.ceil(examples.length / config.batchSize);
    const totalSteps = perEpoch * config.epochs;
    let step = hooks.resumeFrom?.step ?? 0;
    const [b1, b2] = config.betas;
    const x = new Float64Array(V);
    const snapshot = (): AdapterState => ({
      config: config.lora,
      tensors: Object.fromEntries(keys.map((k, i) => [NAMES[i], Float32Array.from(delta[k])])),
      step,
      optimizer: {
        m: Object.fromEntries(keys.map((k, i) => [NAMES[i], Float32Array.from(m[k])])),
        v: Object.fromEntries(keys.map((k, i) => [NAMES[i], Float32Array.from(v[k])])),
      },
    });
    for (let epoch = Math.floor(step / perEpoch); epoch < config.epochs; epoch++) {
      // The order of an epoch depends only on the seed and the epoch, so a resumed run sees the same batches.
      const order = shuffled(
        examples.map((_, i) => i),
        rng(config.seed * 1000 + epoch),
      );
      for (let b = step - epoch * perEpoch; b < perEpoch; b++) {
        hooks.signal?.throwIfAborted();
        const t0 = performance.now();
        for (const k of keys) grad[k].fill(0);
        let loss = 0;
        let targets = 0;
        let tokens = 0;
        for (const ei of order.slice(b * config.batchSize, (b + 1) * config.batchSize)) {
          const ex = examples[ei];
          const start = Math.max(0, ex.ids.length - config.maxSeqLen);
          const ids = ex.ids.slice(start);
          const mask = ex.lossMask.slice(start);
          tokens += ids.length;
          for (let t = 1; t < ids.length; t++) {
            if (!mask[t]) continue;
            x.fill(0);
            const f = this.logits(ids.slice(0, t), delta, x);
            this.logSoftmax(x);
            loss -= x[ids[t]];
            targets++;
            const s = f.bag.length ? 1 / Math.sqrt(f.bag.length) : 0;
            for (let w = 0; w < V; w++) {
              const g = Math.exp(x[w]) - (w === ids[t] ? 1 : 0);
              grad.bias[w] += g;
              grad.prev[f.prev * V + w] += g;
              for (const bk of f.bag) grad.assoc[bk * V + w] += s * g;
            }
          }
        }
        const n = Math.max(1, targets);
        loss /= n;
        let norm2 = 0;
        for (const k of keys) for (let i = 0; i < grad[k].length; i++) norm2 += (grad[k][i] /= n) ** 2;
        const gradNorm = Math.sqrt(norm2);
        if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) throw new NonFiniteError('the loss', step);
        const clip = config.clipNorm > 0 && gradNorm > config.clipNorm ? config.clipNorm / gradNorm : 1;
        const lr = scheduledLr(config, step, totalSteps);
        step++;
        const c1 = 1 - b1 ** step;
        const c2 = 1 - b2 ** step;
        for (const k of keys) {
          const p = delta[k];
          const g = grad[k];
          for (let i = 0; i < p.length; i++) {
            const gi = g[i] * clip;
            if (gi === 0 && m[k][i] === 0) continue;
            m[k][i] = b1 * m[k][i] + (1 - b1) * gi;
            v[k][i] = b2 * v[k][i] + (1 - b2) * gi * gi;
            p[i] -= lr * ((m[k][i] / c1) / (Math.sqrt(v[k][i] / c2) + config.eps) + config.weightDecay * p[i]);
          }
        }
        for (const k of keys) for (const val of delta[k].subarray(0, 64)) if (!Number.isFinite(val)) throw new NonFiniteError('the adapter weights', step);
        const dt = (performance.now() - t0) / 1000;
        const e: StepEvent = { step, totalSteps, epoch, loss, learningRate: lr, gradNorm, tokensPerSecond: tokens / Math.max(dt, 1e-6) };
        hooks.onStep?.(e);
        // Let an abort from onStep's world (timers, other promises) land between steps.
        await Promise.resolve();
      }
      await hooks.onEpoch?.(epoch, snapshot());
    }
    return snapshot();
  }

  private fromStateMoments(t: Record<string, Float32Array>): Params {
    return this.fromState({ config: { rank: 0, alpha: 0, dropout: 0, targets: [] }, tensors: t, step: 0 });
  }

  async loadAdapter(state: AdapterState): Promise<AdapterRef> {
    const id = `bow-adapter-${this.nextAdapter++}`;
    this.adapters.set(id, this.fromState(state));
    return { id };
  }

  unloadAdapter(ref: AdapterRef): void {
    this.adapters.delete(ref.id);
  }

  get loadedAdapters(): number {
    return this.adapters.size;
  }
}

export function scheduledLr(c: TrainConfig, step: number, total: number): number {
  const warm = Math.round(c.schedule.warmupFraction * total);
  if (step < warm) return (c.learningRate * (step + 1)) / warm;
  const p = total > warm ? (step - warm) / (total - warm) : 0;
  if (c.schedule.kind === 'cosine') return c.learningRate * 0.5 * (1 + Math.cos(Math.PI * p));
  if (c.schedule.kind === 'linear') return c.learningRate * (1 - p);
  return c.learningRate;
}

/** Training settings that make the bag-of-words model learn quickly. */
export function bowTrainConfig(over: Partial<TrainConfig> = {}): TrainConfig {
  return {
    lora: { rank: 4, alpha: 8, dropout: 0, targets: ['q', 'v'] },
    learningRate: 0.05,
    weightDecay: 0,
    betas: [0.9, 0.999],
    eps: 1e-8,
    schedule: { kind: 'constant', warmupFraction: 0 },
    epochs: 3,
    batchSize: 8,
    maxSeqLen: 256,
    clipNorm: 0,
    seed: 42,
    ...over,
  };
}
