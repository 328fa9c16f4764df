/**
 * The lab's LabModel over the WebGPU engine. Weights are uploaded once; plans (buffers + prepared ops) are
 * made once per shape and cached; adapters live on the GPU as flat buffers and are copied into the
 * plan's LoRA slot for their configuration when used (one copyBufferToBuffer, no re-preparing).
 */
import type { AdapterRef, ContinuationRequest, GenerateOptions, LabModel, LabTokenizer, NextTokenRequest } from '../lab/model';
import type { AdapterState, TrainConfig, TrainExample, TrainHooks } from './types';
import type { Counters } from '../engine/counters';
import type { Runtime } from '../engine/runtime';
import { exportPeft } from './lora';
import { candidateHead, IGNORE_INDEX, logitsHead, packBatch, roundUp, targetHead } from './score';
import type { ModelSpec } from './spec';
import { loraLayout, loraSignature, packLora, uploadWeights, type LoraBuffers, type Precision, type WeightSource } from './transformer';
import { generateTokens } from './generate';
import { ModelCore, type EngineModelOptions, type LoadedAdapter } from './model-core';
import { PrefixCache, type PrefixEntry } from './prefix-cache';
import { choosePrecision } from './precision';
import { trainLora } from './train-step';

export { ModelCore, type EngineModelOptions } from './model-core';

export class EngineModel implements LabModel {
  readonly id: string;
  readonly tokenizer: LabTokenizer;
  readonly precision: Precision;
  /** Why the weights are in this precision (UI, manifest). */
  precisionReason = '';
  private adapters = new Map<string, LoadedAdapter>();
  private nextAdapter = 1;
  private generation = 0;
  private readonly prefixes: PrefixCache;

  constructor(
    readonly core: ModelCore,
    tokenizer: LabTokenizer,
    id: string,
  ) {
    this.id = id;
    this.tokenizer = tokenizer;
    this.precision = core.w.precision;
    const budget = core.prefixCacheBytes ?? Math.min(256 * 2 ** 20, core.rt.maxBufferSize / 8);
    this.prefixes = new PrefixCache(core.rt, budget);
  }

  get spec(): ModelSpec {
    return this.core.spec;
  }

  get counters(): Counters {
    return this.core.rt.counters;
  }

  /** Bytes of the uploaded weights. */
  get weightBytes(): number {
    return this.core.w.bytes;
  }

  adapterOf(ref: AdapterRef | null | undefined): LoadedAdapter | null {
    if (!ref) return null;
    const a = this.adapters.get(ref.id);
    if (!a) throw new Error(`adapter ${ref.id} is not loaded`);
    return a;
  }

  /**
   * Full logits at every position of each sequence ([len·V] row-major per sequence), batched like scoring.
   * For verification against a reference implementation and for tests.
   */
  async logits(seqs: readonly (readonly number[])[], adapter?: AdapterRef | null): Promise<Float32Array[]> {
    const core = this.core;
    const lora = core.activate(this.adapterOf(adapter));
    const V = this.spec.vocabSize;
    const out: Float32Array[] = [];
    const S = roundUp(Math.max(...seqs.map((s) => s.length)), core.quantum);
    const B = Math.min(core.maxBatch, seqs.length);
    for (let c = 0; c < seqs.length; c += B) {
      const chunk = seqs.slice(c, c + B);
      const plan = core.plan({ B, S, L: S, past: 0 }, lora);
      const head = logitsHead(plan, core.w, B * S);
      const { ids, positions } = packBatch(chunk, B, S, 0);
      core.rt.write(plan.ids, ids);
      core.rt.write(plan.positions, positions);
      core.rt.write(head.rows, Uint32Array.from({ length: B * S }, (_, i) => i));
      core.submit(plan, head.ops);
      const all = await core.rt.readF32(head.out);
      chunk.forEach((s, b) => out.push(all.slice(b * S * V, (b * S + s.length) * V)));
    }
    return out;
  }

  async nextTokenLogProbs(req: NextTokenRequest): Promise<Float32Array[]> {
    const core = this.core;
    const lora = core.activate(this.adapterOf(req.adapter));
    const prefix = [...(req.prefix ?? [])];
    let prompts = req.prompts.map((p) => [...p]);
    if (prompts.some((p) => p.length === 0)) {
      // A prompt needs at least one token of its own: move the prefix's last token into every prompt.
      if (prefix.length === 0) throw new Error('nextTokenLogProbs: an empty prompt with no prefix');
      const last = prefix.pop()!;
      prompts = prompts.map((p) => [last, ...p]);
    }
    const C = req.candidates.length;
    const P = prefix.length;
    const S = roundUp(Math.max(...prompts.map((p) => p.length)), core.quantum);
    const B = Math.min(core.maxBatch, prompts.length);
    const source = P > 0 ? this.prefixKV(prefix, lora, this.adapterKey(req.adapter)) : null;
    // Prompts after a prefix: capacity rounded and `past` set per call, so prefixes of other lengths reuse the plan.
    const plan = core.plan({ B, S, L: roundUp(P + S, 64), past: 0, settablePast: true }, lora);
    plan.setPast(P);
    const head = candidateHead(plan, core.w, B, C);
    core.rt.write(head.candidates, Uint32Array.from(req.candidates));
    const out: Float32Array[] = [];
    const copies = source ? plan.kv.copyPrefixFrom(source.kv, P) : [];
    for (let c = 0; c < prompts.length; c += B) {
      const chunk = prompts.slice(c, c + B);
      const { ids, positions } = packBatch(chunk, B, S, P);
      core.rt.write(plan.ids, ids);
      core.rt.write(plan.positions, positions);
      core.rt.write(head.rows, Uint32Array.from({ length: B }, (_, b) => b * S + Math.max(0, (chunk[b]?.length ?? 1) - 1)));
      core.submit(plan, head.ops, copies);
      const r = await core.rt.readF32(head.out);
      chunk.forEach((_, b) => out.push(r.slice(b * C, (b + 1) * C)));
    }
    if (source) this.prefixes.discard(source);
    return out;
  }

  /** The prefix cache's key for an adapter: its id and load generation (`base` for none). */
  private adapterKey(ref: AdapterRef | null | undefined): string {
    const a = this.adapterOf(ref);
    return a ? `${a.ref.id}#${a.generation}` : 'base';
  }

  /**
   * KV rows [0, P) of `prefix`: from the prefix cache when a cached sequence starts with all of it, otherwise
   * the longest cached common start is copied into a B = 1 plan and only the remaining tokens are forwarded
   * (counted in `prefixTokensForwarded`); the result becomes a cache entry.
   */
  private prefixKV(prefix: readonly number[], lora: LoraBuffers | null, adapter: string): PrefixEntry {
    const core = this.core;
    const P = prefix.length;
    const hit = this.prefixes.lookup(adapter, prefix);
    const counters = core.rt.counters;
    if (hit && hit.rows === P) {
      // A cached sequence starts with the whole prefix: its first P rows are this prefix's rows.
      counters.prefixTokensReused += P;
      return hit.entry;
    }
    const h = hit?.rows ?? 0;
    const rest = prefix.slice(h);
    const Sr = roundUp(rest.length, core.quantum);
    // Capacity rounded and `past` set per call, so that prefixes of many lengths share a few plans.
    const plan = core.plan({ B: 1, S: Sr, L: roundUp(h + Sr, 64), past: 0, settablePast: true }, lora, 'prefix');
    plan.setPast(h);
    const { ids, positions } = packBatch([rest], 1, Sr, h);
    core.rt.write(plan.ids, ids);
    core.rt.write(plan.positions, positions);
    core.submit(plan, [], hit && h > 0 ? plan.kv.copyPrefixFrom(hit.entry.kv, h) : []);
    counters.prefixTokensForwarded += rest.length;
    counters.prefixTokensReused += h;
    const spec = this.spec;
    const entry = this.prefixes.create(adapter, prefix, spec.numLayers, spec.numKvHeads, spec.headDim);
    core.rt.run(entry.kv.copyPrefixFrom(plan.kv, P), 'prefix cache');
    return entry;
  }

  /** Forget every cached prefix (e.g. to measure scoring without reuse). */
  clearPrefixCache(): void {
    this.prefixes.clear();
  }

  async continuationLogProbs(req: ContinuationRequest): Promise<number[]> {
    const core = this.core;
    const lora = core.activate(this.adapterOf(req.adapter));
    if (req.prompts.length !== req.continuations.length) throw new Error('continuationLogProbs: prompts and continuations differ in number');
    const bos = this.spec.bosTokenId;
    const items = req.prompts.map((p, i) => {
      const prompt = p.length ? [...p] : bos !== null ? [bos] : null;
      if (!prompt) throw new Error('continuationLogProbs: an empty prompt and no BOS token');
      return { seq: [...prompt, ...req.continuations[i]], from: prompt.length };
    });
    const S = roundUp(Math.max(...items.map((x) => x.seq.length)), core.quantum);
    const B = Math.min(core.maxBatch, items.length);
    const plan = core.plan({ B, S, L: S, past: 0 }, lora);
    const head = targetHead(plan, core.w);
    const out: number[] = [];
    for (let c = 0; c < items.length; c += B) {
      const chunk = items.slice(c, c + B);
      const { ids, positions } = packBatch(chunk.map((x) => x.seq), B, S, 0);
      const targets = new Uint32Array(B * S).fill(IGNORE_INDEX);
      chunk.forEach((x, b) => {
        for (let s = x.from - 1; s < x.seq.length - 1; s++) targets[b * S + s] = x.seq[s + 1];
      });
      core.rt.write(plan.ids, ids);
      core.rt.write(plan.positions, positions);
      core.rt.write(head.targets, targets);
      core.submit(plan, head.ops);
      const nll = await core.rt.readF32(head.nll);
      chunk.forEach((x, b) => {
        let sum = 0;
        for (let s = x.from - 1; s < x.seq.length - 1; s++) sum -= nll[b * S + s];
        out.push(sum);
      });
    }
    return out;
  }

  generate(prompt: readonly number[], opts: GenerateOptions): Promise<number[]> {
    return generateTokens(this.core, this.adapterOf(opts.adapter), this.tokenizer, prompt, opts);
  }

  train(examples: readonly TrainExample[], config: TrainConfig, hooks?: TrainHooks): Promise<AdapterState> {
    return trainLora(this.core, examples, config, hooks);
  }

  async loadAdapter(state: AdapterState): Promise<AdapterRef> {
    const layout = loraLayout(this.spec, state.config);
    const params = packLora(layout, state.tensors);
    const ref: AdapterRef = { id: `adapter-${this.nextAdapter++}` };
    this.adapters.set(ref.id, { ref, state, sig: loraSignature(state.config), params, generation: ++this.generation });
    return ref;
  }

  unloadAdapter(ref: AdapterRef): void {
    const a = this.adapters.get(ref.id);
    if (a) this.prefixes.dropAdapter(`${a.ref.id}#${a.generation}`);
    this.adapters.delete(ref.id);
  }

  /** PEFT files (adapter_config.json, adapter_model.safetensors) of a loaded adapter. */
  exportAdapter(ref: AdapterRef): Record<string, Uint8Array> {
    const a = this.adapterOf(ref);
    if (!a) throw new Error('exportAdapter: no adapter');
    return exportPeft(this.spec, a.state, this.id).files;
  }

  dispose(): void {
    this.prefixes.clear();
    this.adapters.clear();
    this.core.dispose();
  }
}

/** Upload a checked model (or any spec + tokenizer + weights) and wrap it as a LabModel. */
export async function createEngineModel(
  rt: Runtime,
  model: { spec: ModelSpec; tokenizer: LabTokenizer; weights: WeightSource; modelId?: string },
  opts: EngineModelOptions = {},
): Promise<EngineModel> {
  const choice = opts.precision ?? 'f16';
  const decision = choosePrecision(choice, model.spec, model.weights, { maxBufferSize: rt.maxBufferSize, memoryBudget: opts.memoryBudget, packedF16: rt.packedF16 });
  const w = await uploadWeights(rt, model.spec, model.weights, decision.precision);
  const m = new EngineModel(new ModelCore(rt, w, opts), model.tokenizer, opts.id ?? model.modelId ?? 'model');
  m.precisionReason = decision.reason;
  return m;
}
