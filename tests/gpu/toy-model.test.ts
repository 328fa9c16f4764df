import { openAsBlob } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngineModel } from '../../src/model/engine-model';
import { loadFolderFiles } from '../../src/model/hub';
import { checkModelFiles } from '../../src/model/load';
import { modelRuntime } from '../helpers/model';

// The shipped toy model, loaded through the same checked path as a Hub model, against the logits that
// PyTorch computed for it when it was trained (tools/toyworld/pretrain.py, f32).
describe('the built-in toy model on the engine', () => {
  it('matches its PyTorch reference logits at every position', async () => {
    const dir = join('public', 'models', 'toy-world');
    const files = await loadFolderFiles('builtin:toy-world', async (f) =>
      access(join(dir, f)).then(
        () => openAsBlob(join(dir, f)),
        () => null,
      ),
    );
    const ref = JSON.parse(await readFile('tests/fixtures/toy-world-reference.json', 'utf8')) as { ids: number[]; logits: number[][] };
    const model = await createEngineModel(await modelRuntime(), checkModelFiles(files), { precision: 'f32' });
    const [logits] = await model.logits([ref.ids], null);
    const V = ref.logits[0].length;
    let worst = 0;
    for (let t = 0; t < ref.ids.length; t++) for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(logits[t * V + v] - ref.logits[t][v]));
    expect(worst).toBeLessThan(1e-4); // measured 1.0e-5: both f32, sums in different orders
    model.dispose();
  });
});
