import { describe, expect, it } from 'vitest';
import { exportPeft, importPeft, initLora, loraDims, loraModuleName, loraParamNames, loraShapes, parsePeftConfig } from '../../../src/model/lora';
import { fixtureSpec } from '../../../src/model/fixtures';
import { parseConfig } from '../../../src/model/config';
import { AdapterMismatchError } from '../../../src/model/errors';
import { writeSafetensors } from '../../../src/model/safetensors';
import type { AdapterState, LoraConfig } from '../../../src/lab/model';

const spec = fixtureSpec({ arch: 'qwen2' });
const cfg: LoraConfig = { rank: 4, alpha: 8, dropout: 0.05, targets: ['v', 'q', 'down'] };

describe('LoRA names and shapes', () => {
  it('maps targets to HF modules and PEFT names', () => {
    expect(loraModuleName(3, 'gate')).toBe('model.layers.3.mlp.gate_proj');
    expect(loraParamNames(spec, ['v', 'q']).slice(0, 4)).toEqual([
      'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight',
      'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight',
      'base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight',
      'base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight',
    ]);
    const s = loraShapes(spec, cfg);
    expect(s.size).toBe(2 * 3 * 2);
    expect(s.get('base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight')).toEqual([32, 4]);
    expect(s.get('base_model.model.model.layers.1.mlp.down_proj.lora_A.weight')).toEqual([4, 128]);
  });
  it('dims on a real model (Llama-3.2-1B: 32/8 heads of 64)', () => {
    const l = parseConfig({ model_type: 'llama', hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: 16, num_attention_heads: 32, num_key_value_heads: 8, head_dim: 64, vocab_size: 128256 });
    expect(loraDims(l, 'k')).toEqual({ in: 2048, out: 512 });
    expect(loraDims(l, 'down')).toEqual({ in: 8192, out: 2048 });
  });
});

describe('PEFT initialisation', () => {
  it('A ~ U(±1/√in) seeded, B = 0', () => {
    const a = initLora(spec, cfg, 7);
    const b = initLora(spec, cfg, 7);
    const c = initLora(spec, cfg, 8);
    const qa = 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight';
    expect(a[qa]).toEqual(b[qa]);
    expect(a[qa]).not.toEqual(c[qa]);
    const bound = 1 / Math.sqrt(64);
    expect(Math.max(...a[qa].map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...a[qa].map(Math.abs))).toBeGreaterThan(0.9 * bound);
    const da = a['base_model.model.model.layers.0.mlp.down_proj.lora_A.weight'];
    expect(Math.max(...da.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(128));
    for (const [n, w] of Object.entries(a)) if (n.includes('lora_B')) expect(w.every((x) => x === 0)).toBe(true);
  });
});

describe('PEFT export / import', () => {
  const tensors = initLora(spec, cfg, 1);
  for (const [n, w] of Object.entries(tensors)) if (n.includes('lora_B')) w.forEach((_, i) => (w[i] = Math.sin(i + n.length)));
  const state: AdapterState = { config: cfg, tensors, step: 12 };

  it('round-trips', async () => {
    const { adapterConfig, files } = exportPeft(spec, state, 'org/tiny');
    expect(adapterConfig).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 4, lora_alpha: 8, lora_dropout: 0.05, bias: 'none', base_model_name_or_path: 'org/tiny' });
    expect(adapterConfig.target_modules).toEqual(['q_proj', 'v_proj', 'down_proj']);
    const back = await importPeft(spec, JSON.parse(new TextDecoder().decode(files['adapter_config.json'])), files['adapter_model.safetensors']);
    expect(back.config).toEqual({ ...cfg, targets: ['q', 'v', 'down'] });
    expect(back.baseModel).toBe('org/tiny');
    expect(Object.keys(back.tensors)).toEqual(loraParamNames(spec, cfg.targets));
    for (const n of Object.keys(tensors)) expect(back.tensors[n]).toEqual(tensors[n]);
  });

  it('rejects adapters that do not fit, listing every problem', async () => {
    const { adapterConfig, files } = exportPeft(spec, state, 'org/tiny');
    // Wrong rank in the config vs the tensors.
    const e1 = await importPeft(spec, { ...adapterConfig, r: 8 }, files['adapter_model.safetensors']).catch((e) => e);
    expect(e1).toBeInstanceOf(AdapterMismatchError);
    expect(e1.message).toMatch(/q_proj\.lora_A\.weight is \[4,64\] but r=8 on this model needs \[8,64\]/);
    // A model with other dimensions.
    const other = { ...spec, hiddenSize: 96, numHeads: 6, numKvHeads: 3 };
    await expect(importPeft(other, adapterConfig, files['adapter_model.safetensors'])).rejects.toThrow(/needs \[4,96\]/);
    // Missing and unexpected tensors.
    const partial = writeSafetensors({ 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight': { dtype: 'F32', shape: [4, 64], data: new Float32Array(256) }, 'base_model.model.model.layers.9.x.lora_A.weight': { dtype: 'F32', shape: [1], data: new Float32Array(1) } });
    const e3 = await importPeft(spec, adapterConfig, partial).catch((e) => e);
    expect(e3.message).toMatch(/missing base_model\.model\.model\.layers\.0\.self_attn\.q_proj\.lora_B\.weight/);
    expect(e3.message).toMatch(/unexpected base_model\.model\.model\.layers\.9\.x/);
    expect(e3.advice).toMatch(/base model/);
  });

  it('rejects unsupported PEFT options by name', () => {
    const ok = { peft_type: 'LORA', r: 4, lora_alpha: 8, target_modules: ['q_proj'] };
    expect(parsePeftConfig(ok).config).toEqual({ rank: 4, alpha: 8, dropout: 0, targets: ['q'] });
    expect(() => parsePeftConfig({ ...ok, peft_type: 'IA3' })).toThrow(/IA3/);
    expect(() => parsePeftConfig({ ...ok, use_dora: true })).toThrow(/use_dora/);
    expect(() => parsePeftConfig({ ...ok, use_rslora: true })).toThrow(/use_rslora/);
    expect(() => parsePeftConfig({ ...ok, target_modules: 'all-linear' })).toThrow(/regular expressions/);
    expect(() => parsePeftConfig({ ...ok, target_modules: ['lm_head'] })).toThrow(/lm_head/);
    expect(() => parsePeftConfig({ ...ok, bias: 'all' })).toThrow(/bias/);
  });

  it('rejects non-finite alpha and tensors, and warns when the adapter names another base model', async () => {
    const ok = { peft_type: 'LORA', r: 4, lora_alpha: 8, target_modules: ['q_proj'] };
    expect(() => parsePeftConfig({ ...ok, lora_alpha: Infinity })).toThrow(/lora_alpha must be a finite positive number.*Infinity/);
    expect(() => parsePeftConfig({ ...ok, lora_alpha: NaN })).toThrow(/lora_alpha must be a finite positive number.*NaN/);
    expect(() => parsePeftConfig({ ...ok, r: 1e6 })).toThrow(/r = 1000000 is larger/);
    const { adapterConfig, files } = exportPeft(spec, state, 'org/tiny');
    const poisoned: AdapterState = { ...state, tensors: Object.fromEntries(Object.entries(state.tensors).map(([n, t]) => [n, Float32Array.from(t)])) };
    const names = Object.keys(poisoned.tensors);
    poisoned.tensors[names[0]][3] = NaN;
    poisoned.tensors[names[1]][0] = Infinity;
    poisoned.tensors[names[1]][1] = -Infinity;
    const bad = exportPeft(spec, poisoned, 'org/tiny').files['adapter_model.safetensors'];
    const e = (await importPeft(spec, adapterConfig, bad).catch((x: unknown) => x)) as Error;
    expect(e).toBeInstanceOf(AdapterMismatchError);
    expect(e.message).toContain(`${names[0]} has 1 non-finite value(s)`);
    expect(e.message).toContain(`${names[1]} has 2 non-finite value(s)`);
    const same = await importPeft(spec, adapterConfig, files['adapter_model.safetensors'], { loadedModel: 'mirror/tiny' });
    expect(same.warnings).toEqual([]);
    const other = await importPeft(spec, adapterConfig, files['adapter_model.safetensors'], { loadedModel: 'org/tiny-instruct' });
    expect(other.warnings).toEqual(['The adapter was trained on org/tiny, but org/tiny-instruct is loaded: its shapes fit, but its effect will not be what it was trained for.']);
  });
});
