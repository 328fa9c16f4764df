// End to end on a real local HTTP server: a fixture repository is downloaded, cached and checked.
import { describe, expect, it } from 'vitest';
import { fixtureWeights, makeFixture, weightsToSafetensors } from '../../../src/model/fixtures';
import { specToConfig } from '../../../src/model/config';
import { loadCheckedModel } from '../../../src/model/load';
import { DirectoryModelCache } from '../../../src/model/cache-node';
import { TokenizerMismatchError, WeightsMismatchError } from '../../../src/model/errors';
import { useLocalServer } from '../../helpers/local-server';

const fx = makeFixture('tiny-qwen2');
const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
const repos: Record<string, Record<string, Uint8Array>> = {
  'fx/tiny-qwen2': fx.files,
  // config.json from another model: hidden size differs from the weights.
  'fx/wrong-config': { ...fx.files, 'config.json': enc(specToConfig({ ...fx.spec, hiddenSize: 96, numLayers: 3 })) },
};
// An embedding smaller than the tokenizer's vocabulary (weights resized to match, so only the tokenizer check fails).
const small = { ...fx.spec, vocabSize: 200, eosTokenIds: [1], bosTokenId: null };
repos['fx/small-vocab'] = { ...fx.files, 'config.json': enc(specToConfig(small)), 'model.safetensors': weightsToSafetensors(small, fixtureWeights(small, 1)) };

const local = useLocalServer('ift-load-', (req, res) => {
  const m = /^\/(.+?)\/resolve\/main\/(.+)$/.exec(req.url!);
  const body = m ? repos[m[1]]?.[m[2]] : undefined;
  if (!body) return void res.writeHead(404).end();
  res.writeHead(200, { 'content-length': String(body.byteLength) }).end(body);
});

describe('loadCheckedModel', () => {
  it('downloads, caches and checks a fixture repository', async () => {
    const m = await loadCheckedModel('fx/tiny-qwen2', { baseUrl: local.base, cache: new DirectoryModelCache(local.root) });
    expect(m.spec).toEqual(fx.spec);
    expect(m.tokenizer.decode(m.tokenizer.encode('the end'))).toBe('the end');
    const w = await m.weights.readF32('model.layers.1.self_attn.k_proj.bias');
    expect(w).toEqual(fx.weights.get('model.layers.1.self_attn.k_proj.bias'));
  });
  it('config disagreeing with the weights → WeightsMismatchError listing the tensors', async () => {
    const e = await loadCheckedModel('fx/wrong-config', { baseUrl: local.base, cache: null }).catch((x) => x);
    expect(e).toBeInstanceOf(WeightsMismatchError);
    expect(e.missing).toContain('model.layers.2.input_layernorm.weight');
    expect(e.misshapen.length).toBeGreaterThan(10);
  });
  it('tokenizer larger than the embedding → TokenizerMismatchError', async () => {
    await expect(loadCheckedModel('fx/small-vocab', { baseUrl: local.base, cache: null })).rejects.toBeInstanceOf(TokenizerMismatchError);
  });
});
