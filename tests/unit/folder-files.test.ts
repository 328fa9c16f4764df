// A model folder picked on the page: only the files the lab reads travel to the Worker, by their bare names.
import { describe, expect, it } from 'vitest';
import { folderFiles, isModelFile } from '../../src/ui/folder-files';

describe('folder files', () => {
  it('keeps config, tokenizer and safetensors files at the folder top level, under bare names', () => {
    const f = (n: string) => new File(['x'], n);
    const picked = folderFiles(
      ['SmolLM2-135M/config.json', 'SmolLM2-135M/tokenizer.json', 'SmolLM2-135M/tokenizer_config.json', 'SmolLM2-135M/model-00001-of-00002.safetensors',
        'SmolLM2-135M/model.safetensors.index.json', 'SmolLM2-135M/README.md', 'SmolLM2-135M/onnx/model.onnx', 'SmolLM2-135M/.git/config.json'].map((path) => ({ path, file: f(path) })),
    );
    expect(picked.name).toBe('SmolLM2-135M');
    expect(Object.keys(picked.files).sort()).toEqual(['config.json', 'model-00001-of-00002.safetensors', 'model.safetensors.index.json', 'tokenizer.json', 'tokenizer_config.json']);
    expect(isModelFile('pytorch_model.bin')).toBe(false);
    expect(isModelFile('generation_config.json')).toBe(true);
  });
});
