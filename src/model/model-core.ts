/**
 * The model's shared machinery on a runtime: its weights, the plans made per shape (cached), and a LoRA
 * slot per adapter configuration. engine-model.ts (scoring), generate.ts and train-step.ts run on it.
 */
import type { AdapterRef } from '../lab/model';
import type { AdapterState } from './types';
import type { Op, Runtime } from '../engine/runtime';
import { PlanCache } from './plan-cache';
import type { ModelSpec } from './spec';
import { allocLora, buildPlan, loraLayout, loraSignature, type GpuWeights, type LoraBuffers, type Plan, type PlanShape } from './transformer';
import type { PrecisionChoice } from './precision';

export interface EngineModelOptions {
  /** Weights' precision; `auto` chooses from the checkpoint and the device (src/model/precision.ts). Default f16. */
  precision?: PrecisionChoice;
  /** GPU memory `auto` may plan the weights against (default DEFAULT_MEMORY_BUDGET). */
  memoryBudget?: number;
  id?: string;
  /** Prompts scored per batch (plans are made for this batch size). Default 8. */
  maxBatch?: number;
  /** Sequence lengths are rounded up to a multiple of this, so that few plans are made. Default 16. */
  seqQuantum?: number;
  /** Plans kept (least recently used released beyond this). Default 12. */
  maxPlans?: number;
  /**
   * Bytes of prefix KV rows kept across scoring calls (src/model/prefix-cache.ts); 0 turns reuse off.
   * Default 256 MiB, at most an eighth of the device's largest buffer: five 1.4k-token MMLU prefixes of
   * Qwen2.5-0.5B (24.6 kB a token) fit, and it stays small beside the weights of any model we load.
   */
  prefixCacheBytes?: number;
}

export interface LoadedAdapter {
  ref: AdapterRef;
  /** Bumped on every load, so that prefix-cache entries of an earlier adapter under this id never match. */
  generation: number;
  state: AdapterState;
  sig: string;
  /** The adapter's parameters, flat, in its layout. */
  params: Float32Array;
}

/** Shared machinery of the model (used by score/generate/train modules). */
export class ModelCore {
  private readonly plans: PlanCache<Plan>;
  private slots = new Map<string, { buffers: LoraBuffers; active: string | null }>();
  readonly maxBatch: number;
  readonly quantum: number;
  readonly maxPlans: number;
  readonly prefixCacheBytes: number | undefined;
  constructor(
    readonly rt: Runtime,
    readonly w: GpuWeights,
    opts: EngineModelOptions,
  ) {
    this.maxBatch = opts.maxBatch ?? 8;
    this.quantum = opts.seqQuantum ?? 16;
    this.maxPlans = opts.maxPlans ?? 12;
    this.prefixCacheBytes = opts.prefixCacheBytes;
    this.plans = new PlanCache(this.maxPlans);
  }

  get spec(): ModelSpec {
    return this.w.spec;
  }

  /** A plan of this shape (made once, cached). `tag` separates plans that must not share buffers. */
  plan(shape: Omit<PlanShape, 'lora'>, lora: LoraBuffers | null, tag = ''): Plan {
    const sig = lora ? loraSignature(lora.layout.config) : 'base';
    const key = `${shape.B}x${shape.S}L${shape.L}p${shape.past}${shape.settablePast ? 's' : ''}${shape.train ? 't' : ''}|${sig}|${tag}`;
    return this.plans.get(key, tag, () => buildPlan(this.rt, this.w, { ...shape, lora }));
  }

  get planCount(): number {
    return this.plans.size;
  }

  /** The LoRA slot for a configuration (training buffers when `training`). */
  slot(config: AdapterState['config'], training = false): LoraBuffers {
    const sig = loraSignature(config);
    let s = this.slots.get(sig);
    if (!s) {
      s = { buffers: allocLora(this.rt, loraLayout(this.spec, config), true), active: null };
      this.slots.set(sig, s);
    }
    if (training) s.active = null;
    return s.buffers;
  }

  /** Make `a` the adapter in its slot (one write of its flat parameters when it is not already there). */
  activate(a: LoadedAdapter | null): LoraBuffers | null {
    if (!a) return null;
    const b = this.slot(a.state.config);
    const s = this.slots.get(a.sig)!;
    if (s.active !== a.ref.id) {
      this.rt.write(b.params, a.params);
      s.active = a.ref.id;
    }
    return b;
  }

  /** Run `before` (copies into the plan's cache), the plan's forward and `ops`, as one submission. */
  submit(plan: Plan, ops: readonly Op[], before: readonly Op[] = []): void {
    this.rt.run(before.length ? [...before, ...plan.forward, ...ops] : [...plan.forward, ...ops], 'model');
  }

  dispose(): void {
    this.plans.clear();
    for (const s of this.slots.values()) for (const t of [s.buffers.params, s.buffers.grads, s.buffers.m, s.buffers.v, s.buffers.dropoutState]) if (t) this.rt.release(t);
    this.slots.clear();
    for (const t of this.w.all) this.rt.release(t);
  }
}
