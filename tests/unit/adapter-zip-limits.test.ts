// Adapter zips (the Model page's import): sizes from the zip's directory are checked before unpacking, and a
// zip with two adapters is refused rather than mixing one folder's config with another's weights.
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { unzipPeftFolder } from '../../src/model/peft-zip';

const cfg = new TextEncoder().encode('{"r": 2, "lora_alpha": 4, "target_modules": ["q_proj"]}');

describe('adapter zips', () => {
  it('refuses a compression bomb from its declared size, before unpacking', () => {
    const zeros = new Uint8Array(64 * 2 ** 20);
    const bomb = zipSync({ 'a/adapter_config.json': cfg, 'a/adapter_model.safetensors': [zeros, { level: 9 }] });
    expect(bomb.length).toBeLessThan(2 ** 20);
    expect(() => unzipPeftFolder(bomb)).toThrow(/adapter_model\.safetensors unpacks to 64 MiB from 0\.\d+ MiB: more than any adapter/);
  });

  it('refuses two adapter folders, even when only one has a config', () => {
    const w = new Uint8Array(16);
    const two = zipSync({ 'a/adapter_config.json': cfg, 'a/adapter_model.safetensors': [w, { level: 0 }], 'b/adapter_model.safetensors': [w, { level: 0 }] });
    expect(() => unzipPeftFolder(two)).toThrow(/the zip holds 2 adapters \(a\/adapter_model\.safetensors, b\/adapter_model\.safetensors\)/);
  });
});
