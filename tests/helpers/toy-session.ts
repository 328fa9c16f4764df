// The Worker's lab session over a store, with the built-in toy world read from public/ and the CPU backend
// (the session and runner tests test the lab, not kernels). Not timed before each run.
import { existsSync, openAsBlob, readFileSync } from 'node:fs';
import path from 'node:path';
import { CpuRuntime } from '../../src/engine/cpu-runtime';
import { BUILTIN_MODELS, TOY_WORLD_ID } from '../../src/model/builtin';
import { loadFolderFiles } from '../../src/model/hub';
import type { Store } from '../../src/store/types';
import type { SessionDeps } from '../../src/worker/session';

export const TOY_DIR = path.join('public', BUILTIN_MODELS[TOY_WORLD_ID]);
export const haveToyWorld = existsSync(path.join(TOY_DIR, 'model.safetensors')) && existsSync(path.join(TOY_DIR, 'world.json'));

export function toySessionDeps(store: Store): SessionDeps {
  return {
    store,
    runtime: async () => new CpuRuntime(),
    modelFiles: (id: string) => loadFolderFiles(id, async (f) => (existsSync(path.join(TOY_DIR, f)) ? openAsBlob(path.join(TOY_DIR, f)) : null)),
    worldJson: async () => JSON.parse(readFileSync(path.join(TOY_DIR, 'world.json'), 'utf8')),
    modelCache: null,
    engineVersion: 'test',
    // The estimate has its own tests (tests/gpu/estimate.test.ts, the e2e front page).
    estimate: false,
  };
}
