// The Worker's lab session over a store, with the built-in toy world read from public/ and the CPU backend
// (the session and runner tests test the lab, not kernels). Not timed before each run.
import { existsSync, mkdtempSync, openAsBlob, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { CpuRuntime } from '../../src/engine/cpu-runtime';
import { BUILTIN_MODELS, TOY_WORLD_ID } from '../../src/model/builtin';
import { loadFolderFiles } from '../../src/model/hub';
import type { Store } from '../../src/store/types';
import type { TrainSettings } from '../../src/worker/protocol';
import { Session, type Ctx, type SessionDeps } from '../../src/worker/session';
import { openFsStore } from './fs-store';

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

/** Inside a describe: a toy-world Session over a fresh store in a temporary folder, both gone after the tests. */
export function useToySession(prefix: string): { session: Session; store: Store } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const store = openFsStore(dir);
  const session = new Session(toySessionDeps(store));
  afterAll(() => {
    session.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  return { session, store };
}

/** A context that reports nothing and is never cancelled. */
export const quietCtx = (): Ctx => ({ progress: () => {}, signal: new AbortController().signal });

/** The tests' small training settings (LoRA r 4 on q and v, one epoch of batch 2, constant rate) for these datasets. */
export function tinyTrain(datasetIds: string[], over: Partial<TrainSettings> = {}): TrainSettings {
  return {
    datasetIds,
    lora: { rank: 4, alpha: 8, dropout: 0, targets: ['q_proj', 'v_proj'] },
    lr: 0.002,
    epochs: 1,
    batch: 2,
    schedule: 'constant',
    warmup: 0,
    seed: 1,
    ...over,
  };
}
