/**
 * LoRA in PEFT's terms: target names → HF modules, PEFT's initialisation (seeded), and PEFT's files
 * (adapter_config.json + adapter_model.safetensors), so adapters move between IFT Lab and Python
 * (`PeftModel.from_pretrained`). Layouts: lora_A [r, in], lora_B [out, r]; y += (α/r)·(x·Aᵀ)·Bᵀ.
 */
import type { AdapterState, LoraConfig, LoraTarget } from './types';
import { AdapterMismatchError } from './errors';
import { SafetensorsFile, sourceFromBytes, writeSafetensors, type ByteSource, type TensorReader, type TensorToWrite } from './safetensors';
import type { ModelSpec } from './spec';
import { uniformPm1 } from './random';

/** Canonical order (also the order of tensors in files and flat buffers). */
export const LORA_TARGETS: readonly LoraTarget[] = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'];

export const LORA_TARGET_MODULES: Record<LoraTarget, string> = {
  q: 'self_attn.q_proj', k: 'self_attn.k_proj', v: 'self_attn.v_proj', o: 'self_attn.o_proj',
  gate: 'mlp.gate_proj', up: 'mlp.up_proj', down: 'mlp.down_proj',
};

/** HF module path of a target in a layer: model.layers.{i}.self_attn.q_proj. */
export function loraModuleName(layer: number, target: LoraTarget): string {
  return `model.layers.${layer}.${LORA_TARGET_MODULES[target]}`;
}

/** in/out features of the linear a target adapts. */
export function loraDims(spec: ModelSpec, target: LoraTarget): { in: number; out: number } {
  const { hiddenSize: d, intermediateSize: f, numHeads: h, numKvHeads: kv, headDim: dh } = spec;
  switch (target) {
    case 'q': return { in: d, out: h * dh };
    case 'k': case 'v': return { in: d, out: kv * dh };
    case 'o': return { in: h * dh, out: d };
    case 'gate': case 'up': return { in: d, out: f };
    case 'down': return { in: f, out: d };
  }
}

function sortTargets(targets: readonly LoraTarget[]): LoraTarget[] {
  for (const t of targets) if (!LORA_TARGETS.includes(t)) throw new AdapterMismatchError(`unknown LoRA target "${t}"`);
  return LORA_TARGETS.filter((t) => targets.includes(t));
}

export function peftTensorName(layer: number, target: LoraTarget, ab: 'A' | 'B'): string {
  return `base_model.model.${loraModuleName(layer, target)}.lora_${ab}.weight`;
}

/** PEFT tensor names in canonical order: layer, then target (q…down), then A before B. */
export function loraParamNames(spec: ModelSpec, targets: readonly LoraTarget[]): string[] {
  const ts = sortTargets(targets);
  const out: string[] = [];
  for (let i = 0; i < spec.numLayers; i++) for (const t of ts) out.push(peftTensorName(i, t, 'A'), peftTensorName(i, t, 'B'));
  return out;
}

/** PEFT name → shape ([r, in] for A, [out, r] for B), canonical order. */
export function loraShapes(spec: ModelSpec, config: Pick<LoraConfig, 'rank' | 'targets'>): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (let i = 0; i < spec.numLayers; i++)
    for (const t of sortTargets(config.targets)) {
      const { in: fin, out } = loraDims(spec, t);
      m.set(peftTensorName(i, t, 'A'), [config.rank, fin]);
      m.set(peftTensorName(i, t, 'B'), [out, config.rank]);
    }
  return m;
}

/**
 * PEFT's default init, seeded: A ~ kaiming_uniform(a=√5) on [r, in] = U(−1/√in, 1/√in); B = 0
 * (so the adapted model starts equal to the base model).
 */
export function initLora(spec: ModelSpec, config: Pick<LoraConfig, 'rank' | 'targets'>, seed: number): Record<string, Float32Array> {
  if (!Number.isInteger(config.rank) || config.rank < 1) throw new AdapterMismatchError(`rank must be a positive integer, got ${config.rank}`);
  const r = uniformPm1(seed);
  const out: Record<string, Float32Array> = {};
  for (const [name, shape] of loraShapes(spec, config)) {
    const w = new Float32Array(shape[0] * shape[1]);
    if (name.endsWith('lora_A.weight')) {
      const bound = 1 / Math.sqrt(shape[1]);
      for (let i = 0; i < w.length; i++) w[i] = bound * r();
    }
    out[name] = w;
  }
  return out;
}

export interface PeftAdapterConfig {
  peft_type: 'LORA';
  task_type: 'CAUSAL_LM';
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  target_modules: string[];
  base_model_name_or_path: string;
  bias: 'none';
  fan_in_fan_out: false;
  inference_mode: boolean;
  init_lora_weights: boolean;
  use_rslora: false;
  use_dora: false;
  modules_to_save: null;
  layers_to_transform: null;
  rank_pattern: Record<string, never>;
  alpha_pattern: Record<string, never>;
}

/** adapter_config.json + adapter_model.safetensors for an adapter (F32 tensors, canonical order). */
export function exportPeft(spec: ModelSpec, state: AdapterState, baseModel: string): { adapterConfig: PeftAdapterConfig; files: Record<string, Uint8Array> } {
  const shapes = loraShapes(spec, state.config);
  const tensors = new Map<string, TensorToWrite>();
  for (const [name, shape] of shapes) {
    const w = state.tensors[name];
    if (!w) throw new AdapterMismatchError(`the adapter has no tensor ${name}`);
    if (w.length !== shape[0] * shape[1]) throw new AdapterMismatchError(`${name} has ${w.length} values, expected [${shape}]`);
    tensors.set(name, { dtype: 'F32', shape, data: w });
  }
  const adapterConfig: PeftAdapterConfig = {
    peft_type: 'LORA', task_type: 'CAUSAL_LM', r: state.config.rank, lora_alpha: state.config.alpha,
    lora_dropout: state.config.dropout,
    target_modules: sortTargets(state.config.targets).map((t) => LORA_TARGET_MODULES[t].split('.')[1]),
    base_model_name_or_path: baseModel, bias: 'none', fan_in_fan_out: false, inference_mode: true,
    init_lora_weights: true, use_rslora: false, use_dora: false, modules_to_save: null, layers_to_transform: null,
    rank_pattern: {}, alpha_pattern: {},
  };
  return {
    adapterConfig,
    files: {
      'adapter_config.json': new TextEncoder().encode(JSON.stringify(adapterConfig, null, 2) + '\n'),
      'adapter_model.safetensors': writeSafetensors(tensors, { format: 'pt' }),
    },
  };
}

/** Parse and validate adapter_config.json into a LoraConfig (plus the base model it names). */
export function parsePeftConfig(json: unknown): { config: LoraConfig; baseModel: string | null } {
  if (typeof json !== 'object' || json === null) throw new AdapterMismatchError('adapter_config.json is not a JSON object');
  const c = json as Record<string, unknown>;
  if (c.peft_type !== 'LORA') throw new AdapterMismatchError(`peft_type is ${JSON.stringify(c.peft_type)}, only LORA is supported`);
  if (c.task_type !== undefined && c.task_type !== 'CAUSAL_LM') throw new AdapterMismatchError(`task_type ${String(c.task_type)} (CAUSAL_LM expected)`);
  for (const [k, ok] of [
    ['use_rslora', c.use_rslora !== true],
    ['use_dora', c.use_dora !== true],
    ['fan_in_fan_out', c.fan_in_fan_out !== true],
    ['bias', c.bias === undefined || c.bias === 'none'],
    ['layers_to_transform', c.layers_to_transform == null],
    ['modules_to_save', c.modules_to_save == null || (Array.isArray(c.modules_to_save) && c.modules_to_save.length === 0)],
    ['rank_pattern', !c.rank_pattern || Object.keys(c.rank_pattern).length === 0],
    ['alpha_pattern', !c.alpha_pattern || Object.keys(c.alpha_pattern).length === 0],
  ] as const)
    if (!ok) throw new AdapterMismatchError(`${k} = ${JSON.stringify(c[k])} is not supported`);
  const r = c.r;
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 1) throw new AdapterMismatchError(`r must be a positive integer, got ${JSON.stringify(r)}`);
  if (r > 4096) throw new AdapterMismatchError(`r = ${r} is larger than any hidden size the lab loads (LoRA ranks are 4–256)`);
  const alpha = c.lora_alpha ?? 8;
  // JSON has no Infinity, but Python's json writes `Infinity` and `NaN` and JSON5-ish readers accept them.
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || !(alpha > 0)) throw new AdapterMismatchError(`lora_alpha must be a finite positive number, got ${JSON.stringify(alpha) ?? String(alpha)} (${String(alpha)})`);
  const dropout = c.lora_dropout ?? 0;
  if (typeof dropout !== 'number' || dropout < 0 || dropout >= 1) throw new AdapterMismatchError(`lora_dropout must be in [0, 1)`);
  const mods = c.target_modules;
  if (!Array.isArray(mods) || mods.length === 0 || mods.some((m) => typeof m !== 'string'))
    throw new AdapterMismatchError('target_modules must be a non-empty list of module names (regular expressions are not supported)');
  const byModule = new Map(LORA_TARGETS.map((t) => [LORA_TARGET_MODULES[t].split('.')[1], t]));
  const targets = (mods as string[]).map((m) => {
    const t = byModule.get(m);
    if (!t) throw new AdapterMismatchError(`target module "${m}" is not one of ${[...byModule.keys()].join(', ')}`);
    return t;
  });
  return {
    config: { rank: r, alpha, dropout, targets: sortTargets(targets) },
    baseModel: typeof c.base_model_name_or_path === 'string' ? c.base_model_name_or_path : null,
  };
}

/**
 * Read a PEFT adapter for `spec`, validating every tensor name and shape and that every value is finite (all
 * problems listed at once). With `loadedModel`, warns when adapter_config.json names another base model.
 */
export async function importPeft(
  spec: ModelSpec,
  adapterConfig: unknown,
  weights: Uint8Array | ByteSource,
  opts: { loadedModel?: string } = {},
): Promise<AdapterState & { baseModel: string | null; warnings: string[] }> {
  const { config, baseModel } = parsePeftConfig(adapterConfig);
  const file = await SafetensorsFile.open(weights instanceof Uint8Array ? sourceFromBytes(weights) : weights, 'adapter_model.safetensors');
  const want = loraShapes(spec, config);
  // PEFT keeps the adapter name out of saved files, but some tools leave ".default" in: accept both.
  const canon = (n: string) => n.replace(/\.lora_([AB])\.default\.weight$/, '.lora_$1.weight');
  const have = new Map([...file.tensors.keys()].map((n) => [canon(n), n]));
  const problems: string[] = [];
  for (const [name, shape] of want) {
    const raw = have.get(name);
    if (!raw) problems.push(`missing ${name}`);
    else {
      const s = file.tensors.get(raw)!.shape;
      if (s.length !== 2 || s[0] !== shape[0] || s[1] !== shape[1]) problems.push(`${name} is [${s}] but r=${config.rank} on this model needs [${shape}]`);
    }
  }
  for (const n of have.keys()) if (!want.has(n)) problems.push(`unexpected ${n}`);
  if (problems.length) throw new AdapterMismatchError(problems.join('; '));
  const tensors: Record<string, Float32Array> = {};
  for (const name of want.keys()) {
    const t = Float32Array.from(await file.readF32(have.get(name)!));
    let bad = 0;
    for (let i = 0; i < t.length; i++) if (!Number.isFinite(t[i])) bad++;
    // One NaN in B·A makes every output NaN: refuse it here rather than as garbage scores later.
    if (bad) problems.push(`${name} has ${bad} non-finite value(s) (NaN or ±Infinity)`);
    tensors[name] = t;
  }
  if (problems.length) throw new AdapterMismatchError(problems.join('; '));
  const warnings: string[] = [];
  // By repository name, so that a mirror (onnx-community/Qwen2.5-0.5B for Qwen/Qwen2.5-0.5B) counts as the same model.
  const name = (id: string) => id.trim().replace(/\/+$/, '').toLowerCase().split('/').at(-1);
  if (opts.loadedModel && baseModel && name(baseModel) !== name(opts.loadedModel)) {
    warnings.push(`The adapter was trained on ${baseModel}, but ${opts.loadedModel} is loaded: its shapes fit, but its effect will not be what it was trained for.`);
  }
  return { config, tensors, step: 0, baseModel, warnings };
}

/**
 * Merge an adapter into the base weights for inference: W' = W + (alpha/r)·B·A for every adapted linear
 * (dropout plays no part at inference). Returns only the changed tensors, by Hugging Face name, in f32; the
 * caller overlays them on the base checkpoint (e.g. `mergedCheckpoint`).
 */
export async function mergeLora(spec: ModelSpec, state: AdapterState, readBase: (name: string) => Promise<Float32Array>): Promise<Map<string, Float32Array>> {
  const { rank, alpha, targets } = state.config;
  const scale = alpha / rank;
  const out = new Map<string, Float32Array>();
  for (let layer = 0; layer < spec.numLayers; layer++)
    for (const t of sortTargets(targets)) {
      const a = state.tensors[peftTensorName(layer, t, 'A')];
      const b = state.tensors[peftTensorName(layer, t, 'B')];
      if (!a || !b) throw new AdapterMismatchError(`the adapter lacks ${loraModuleName(layer, t)}`);
      const { in: fin, out: fout } = loraDims(spec, t);
      const name = `${loraModuleName(layer, t)}.weight`;
      const w = Float32Array.from(await readBase(name));
      for (let o = 0; o < fout; o++)
        for (let i = 0; i < fin; i++) {
          let acc = 0;
          for (let k = 0; k < rank; k++) acc += b[o * rank + k] * a[k * fin + i];
          w[o * fin + i] += scale * acc;
        }
      out.set(name, w);
    }
  return out;
}

/** A complete f32 checkpoint (safetensors bytes) of the base model with the adapter merged in. */
export async function mergedCheckpoint(spec: ModelSpec, state: AdapterState, base: TensorReader): Promise<Uint8Array> {
  const merged = await mergeLora(spec, state, (n) => base.readF32(n));
  const tensors = new Map<string, { dtype: 'F32'; shape: number[]; data: Float32Array }>();
  for (const [name, info] of base.tensors) tensors.set(name, { dtype: 'F32', shape: [...info.shape], data: merged.get(name) ?? (await base.readF32(name)) });
  return writeSafetensors(tensors, { format: 'pt', merged_lora: `r${state.config.rank} alpha${state.config.alpha}` });
}
