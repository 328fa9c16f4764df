// The Worker's lab session driven directly in Node through Dawn, on the built-in toy world: load → probe →
// datasets → experiment (train with a pause, checkpoint, evaluate) → a cancel mid-run → resume → stored
// result. The same code runs in the browser's Worker (tests/e2e/flow.test.ts). Runs on the CPU backend (it tests the session, not kernels: tests/gpu has those).
import { mkdtempSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILTIN_MODELS, TOY_WORLD_ID } from '../../../src/model/builtin';
import { validateSharedResult } from '../../../src/share/schema';
import { openFsStore } from '../../helpers/fs-store';
import type { StoredRecord } from '../../../src/store/types';
import type { Progress } from '../../../src/worker/protocol';
import { Session, type Ctx } from '../../../src/worker/session';
import { tinyTrain, toySessionDeps } from '../../helpers/toy-session';

const DIR = path.join('public', BUILTIN_MODELS[TOY_WORLD_ID]);
const have = existsSync(path.join(DIR, 'model.safetensors')) && existsSync(path.join(DIR, 'world.json'));

describe.skipIf(!have)('lab session on the toy world (Dawn)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ift-session-'));
  const store = openFsStore(dir);
  const deps = toySessionDeps(store);
  const session = new Session(deps);
  // A reload: a new Worker, a new session over the same store, no model loaded yet.
  const reloaded = new Session(deps);
  afterAll(() => {
    session.dispose();
    reloaded.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  const t0 = performance.now();
  const times: string[] = [];
  const mark = (what: string) => times.push(`${what} ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  it('load → probe → datasets → train (paused once, cancelled once, resumed) → evaluate → stored result', { timeout: 120_000 }, async () => {
    const info = await session.loadModel(TOY_WORLD_ID, 'main', { progress: () => {}, signal: new AbortController().signal });
    expect(info).toMatchObject({ arch: 'llama', layers: 3, hiddenSize: 64, precision: 'f32', builtin: true });
    expect(info.params).toBeGreaterThan(100_000);
    expect(info.weightBytes).toBeGreaterThanOrEqual(info.params * 4);
    expect((await session.verifyModel({ progress: () => {}, signal: new AbortController().signal })).message).toMatch(/No ONNX export/);
    mark('load');

    const quiet: Ctx = { progress: () => {}, signal: new AbortController().signal };
    // Threshold 0.25: any confident-enough answer counts, so known and unknown both exist even on a weak model.
    const probe = await session.probe({ source: { type: 'toyworld', seed: 1 }, k: 1, threshold: 0.25, strict: false, seed: 1, maxPerSplit: 8 }, quiet);
    expect(probe.questions).toBe(8);
    expect(probe.known + probe.unknown + probe.dropped).toBe(8);
    expect(probe.known).toBeGreaterThan(0);
    expect(probe.unknown).toBeGreaterThan(0);
    expect(await store.get('probes', probe.probeId)).toBeTruthy();
    mark('probe');

    const ds = await session.buildDatasets(
      { probeId: probe.probeId, conditions: ['harmonious', 'incompatible', 'selfAligning'], ratios: [], size: 4, responses: 'letter', seed: 3 },
      quiet,
    );
    expect(ds.datasets.map((d) => d.condition)).toEqual(['harmonious', 'incompatible', 'selfAligning']);
    const size = Math.min(4, probe.known, probe.unknown);
    for (const d of ds.datasets) {
      expect(d.size).toBe(size);
      // The preview is the templated text; the target (the loss) is the reply and the end of turn.
      expect(d.preview[0].context).toContain('<|assistant|>');
      expect(d.preview[0].target.startsWith(d.preview[0].response)).toBe(true);
    }
    if (size < 4) expect(ds.warnings.join(' ')).toMatch(/instead of 4/);
    const [inc, self] = [ds.datasets[1].preview, ds.datasets[2].preview];
    // Same questions, different answers: incompatible answers gold, self-aligning the model's own belief.
    expect(inc.map((p) => p.question)).toEqual(self.map((p) => p.question));
    expect(inc.every((p) => p.correct)).toBe(true);
    expect(self.every((p) => !p.correct)).toBe(true);
    mark('datasets');

    // Train Incompatible then Self-aligning: pause at step 1 of the first, cancel during the second.
    const train = tinyTrain(ds.datasets.slice(1).map((d) => d.datasetId));
    const ac = new AbortController();
    const events: Progress[] = [];
    let paused = false;
    const c: Ctx = {
      signal: ac.signal,
      progress: (p) => {
        events.push(p);
        if (p.stage !== 'train') return;
        if (!paused && p.metrics?.step === 1) {
          paused = true;
          expect(session.trainControl('pause')).toEqual({ paused: true });
          setTimeout(() => session.trainControl('resume'), 200);
        }
        if (p.metrics?.condition === 1) ac.abort();
      },
    };
    await expect(session.experiment(train, 'paper', c)).rejects.toMatchObject({ code: 'cancelled' });
    mark('first condition + cancel');
    const first = events.filter((e) => e.stage === 'train' && e.metrics!.condition === 0);
    expect(first.map((e) => e.metrics!.step)).toEqual(first.map((_, i) => i + 1));
    for (const k of ['step', 'totalSteps', 'loss', 'lr', 'tokensPerSec', 'fraction', 'gpuBytes', 'condition']) expect(first[0].metrics).toHaveProperty(k);
    expect(first[0].metrics!.gpuBytes).toBeGreaterThan(0);
    const cut = (await store.list<StoredRecord & { status?: string }>('runs')).find((r) => r.kind === 'lab-run')!;
    expect(cut.status).toBe('cancelled');
    const progressOf = async () => (await store.get<StoredRecord & { progress: { runs: unknown[] } }>('checkpoints', `${cut.id}#progress`))!.progress;
    expect((await progressOf()).runs).toHaveLength(1);
    expect((await store.list('checkpoints')).filter((r) => r.id !== `${cut.id}#progress`)).toHaveLength(1);

    const more: Progress[] = [];
    const out = await reloaded.resumeExperiment(cut.id, { progress: (p) => more.push(p), signal: new AbortController().signal });
    mark('resume');
    // After the "reload": only the unfinished condition trains again, and the base model is not scored again.
    expect(new Set(more.filter((e) => e.stage === 'train').map((e) => e.metrics!.condition))).toEqual(new Set([1]));
    expect(more.some((e) => e.stage === 'baseline')).toBe(false);
    expect(out.runId).toBe(cut.id);
    expect(validateSharedResult(out.result).ok).toBe(true);
    expect(out.result.conditions.map((x) => x.kind)).toEqual(['incompatible', 'selfAligning']);
    expect(out.result.base.homo.n).toBeGreaterThan(0);
    expect(Object.keys(out.changes)).toEqual(['Incompatible', 'Self-aligning']);
    const stored = await store.get<StoredRecord & { lab: { experiment: { runs: { fit: unknown }[] } } }>('runs', cut.id);
    expect(stored?.kind).toBe('result');
    // One record per run: nothing else in `runs`.
    expect(await store.list('runs')).toHaveLength(1);
    expect(stored!.lab.experiment.runs).toHaveLength(2);
    expect((await progressOf()).runs).toHaveLength(2);
    expect(await store.list('adapters')).toHaveLength(2);
    console.log(`toy world session (known ${probe.known}, unknown ${probe.unknown}): ${times.join(', ')}`);
  });
});
