// PEFT folders in a zip, both ways, with PEFT's tensor names for the model; the curated catalogue's figures;
// the Vicuna chat format for base models without a chat template.
import { unzipSync, zipSync, strToU8 } from 'fflate';
import { describe, expect, it } from 'vitest';
import { curatedModels, paramCountOf } from '../../../src/model/catalogue';
import { VICUNA_SYSTEM } from '../../../src/model/chat-fallback';
import { parseConfig } from '../../../src/model/config';
import { AdapterMismatchError } from '../../../src/model/errors';
import { fixtureSpec, makeFixture } from '../../../src/model/fixtures';
import { exportPeft, importPeft, initLora, loraParamNames } from '../../../src/model/lora';
import { REAL_CONFIGS } from '../../../src/model/memory';
import { isZip, peftFolderName, unzipPeftFolder, zipPeftFolder } from '../../../src/model/peft-zip';
import { createTokenizer } from '../../../src/model/tokenizer';

/** PEFT's names for a Llama/Qwen2 causal LM: base_model.model.model.layers.N.{self_attn|mlp}.X_proj.lora_{A|B}.weight */
const PEFT_NAME = /^base_model\.model\.model\.layers\.(\d+)\.(self_attn\.(q|k|v|o)_proj|mlp\.(gate|up|down)_proj)\.lora_(A|B)\.weight$/;

describe('PEFT zip', () => {
  const spec = parseConfig(REAL_CONFIGS['SmolLM2-135M']);
  const config = { rank: 4, alpha: 8, dropout: 0.05, targets: ['q', 'k', 'v', 'o'] as const };
  const state = { config: { ...config, targets: [...config.targets] }, tensors: initLora(spec, config, 7), step: 12 };

  it('round-trips through the lab importer with PEFT names and shapes for SmolLM2-135M', async () => {
    const { files } = exportPeft(spec, state, 'HuggingFaceTB/SmolLM2-135M');
    const zip = zipPeftFolder('SmolLM2-135M run/harmonious s1', files);
    expect(isZip(zip)).toBe(true);
    // One folder with exactly PEFT's two files.
    expect(Object.keys(unzipSync(zip)).sort()).toEqual(['SmolLM2-135M_run_harmonious_s1/adapter_config.json', 'SmolLM2-135M_run_harmonious_s1/adapter_model.safetensors']);
    const folder = unzipPeftFolder(zip);
    expect(folder.config).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 4, lora_alpha: 8, target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], base_model_name_or_path: 'HuggingFaceTB/SmolLM2-135M' });
    const back = await importPeft(spec, folder.config, folder.weights, { loadedModel: 'HuggingFaceTB/SmolLM2-135M' });
    const names = Object.keys(back.tensors);
    expect(names).toHaveLength(30 * 4 * 2);
    for (const n of names) expect(n).toMatch(PEFT_NAME);
    expect(names).toEqual(loraParamNames(spec, config.targets));
    expect(back.tensors['base_model.model.model.layers.29.self_attn.k_proj.lora_B.weight']).toHaveLength(192 * 4);
    for (const n of names) expect(back.tensors[n]).toEqual(state.tensors[n]);
    expect(back.warnings).toEqual([]);
  });

  it('refuses zips without both files, with two adapters, or not zips at all', () => {
    const only = zipSync({ 'a/adapter_config.json': strToU8('{}'), 'a/adapter_model.bin': new Uint8Array(4) });
    expect(() => unzipPeftFolder(only)).toThrow(/adapter_model\.safetensors is missing.*safe_serialization=True/);
    const { files } = exportPeft(spec, state, 'x');
    const two = zipSync({ 'a/adapter_config.json': files['adapter_config.json'], 'a/adapter_model.safetensors': files['adapter_model.safetensors'], 'b/adapter_config.json': files['adapter_config.json'] });
    expect(() => unzipPeftFolder(two)).toThrow(/holds 2 adapters/);
    expect(() => unzipPeftFolder(strToU8('not a zip at all'))).toThrow(AdapterMismatchError);
    expect(isZip(strToU8('{"r": 8}'))).toBe(false);
    expect(peftFolderName('run-1/harmonious:s1')).toBe('run-1_harmonious_s1');
  });
});

describe('curated models', () => {
  it('base models first, then -Instruct; figures from the config shapes', async () => {
    const all = await curatedModels();
    expect(all.map((m) => m.id)).toEqual([
      'HuggingFaceTB/SmolLM2-135M', 'HuggingFaceTB/SmolLM2-360M', 'Qwen/Qwen2.5-0.5B', 'meta-llama/Llama-3.2-1B',
      'HuggingFaceTB/SmolLM2-135M-Instruct', 'HuggingFaceTB/SmolLM2-360M-Instruct', 'Qwen/Qwen2.5-0.5B-Instruct', 'meta-llama/Llama-3.2-1B-Instruct',
    ]);
    const by = Object.fromEntries(all.map((m) => [m.id, m]));
    // The published parameter counts (SmolLM2 135M / 362M, Qwen2.5 494M, Llama 3.2 1.24B) and bf16 downloads.
    expect(by['HuggingFaceTB/SmolLM2-135M'].params).toBe(134_515_008);
    expect(by['HuggingFaceTB/SmolLM2-360M'].params / 1e6).toBeCloseTo(361.8, 0);
    expect(by['Qwen/Qwen2.5-0.5B'].params / 1e6).toBeCloseTo(494.0, 0);
    expect(by['meta-llama/Llama-3.2-1B'].params / 1e9).toBeCloseTo(1.236, 2);
    expect(by['Qwen/Qwen2.5-0.5B'].downloadBytes / 1e6).toBeCloseTo(988, -1);
    expect(by['meta-llama/Llama-3.2-1B']).toMatchObject({ gated: true, licence: expect.stringMatching(/Llama 3\.2/) });
    expect(by['Qwen/Qwen2.5-0.5B'].licence).toBe('Apache-2.0');
    for (const m of all) {
      // f16 weights are half the download's... at least; training needs more than probing.
      expect(m.probeBytes).toBeGreaterThan(m.params * 2 * 0.99);
      expect(m.trainBytes).toBeGreaterThan(m.probeBytes);
      expect(m.memoryBasis).toMatch(/Estimates/);
    }
    console.log(all.filter((m) => m.group === 'base').map((m) => `${m.family}: ${(m.params / 1e6).toFixed(1)} M params, probe ${(m.probeBytes / 2 ** 20).toFixed(0)} MiB, LoRA train ${(m.trainBytes / 2 ** 20).toFixed(0)} MiB`).join('\n'));
    expect(paramCountOf(fixtureSpec())).toBeGreaterThan(0);
  });
});

describe('chat template fallback', () => {
  it('a base tokenizer without chat_template renders Vicuna v1.1, ending replies with its EOS', () => {
    const fx = makeFixture('tiny-llama');
    const { chat_template: _t, ...config } = fx.tokenizerConfig;
    const tok = createTokenizer(fx.tokenizerJson, config);
    expect(tok.chatTemplate).toBe('vicuna-fallback');
    const msgs = [{ role: 'user' as const, content: 'Which is it? A. x B. y' }, { role: 'assistant' as const, content: 'A' }];
    expect(tok.applyChatTemplate(msgs.slice(0, 1), { addGenerationPrompt: true })).toBe(`${VICUNA_SYSTEM} USER: Which is it? A. x B. y ASSISTANT:`);
    expect(tok.applyChatTemplate(msgs)).toBe(`${VICUNA_SYSTEM} USER: Which is it? A. x B. y ASSISTANT: A<|im_end|>`);
    expect(createTokenizer(fx.tokenizerJson, fx.tokenizerConfig).chatTemplate).toBe('model');
  });
});
