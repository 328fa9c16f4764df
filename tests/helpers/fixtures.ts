// Writes fixture models to tests/fixtures/generated/{name}/ (gitignored), the layout of a Hub repository
// plus onnx/model.onnx for transformers.js. Cheap (~0.1 s a model), so tests call it in beforeAll.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeFixture, type Fixture } from '../../src/model/fixtures';
import { buildOnnxModel } from '../../src/model/fixtures-onnx';

export const GENERATED_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures/generated');

export function writeFixture(name: string, root = GENERATED_DIR, withOnnx = true): Fixture & { dir: string } {
  const fx = makeFixture(name);
  const dir = join(root, name);
  const files: Record<string, Uint8Array> = { ...fx.files };
  if (withOnnx) files['onnx/model.onnx'] = buildOnnxModel(fx.spec, fx.weights);
  for (const [path, bytes] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), bytes);
  }
  return { ...fx, dir };
}
