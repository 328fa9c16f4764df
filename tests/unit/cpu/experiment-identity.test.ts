// One experiment, one implementation (on the CPU backend: this tests the runner, not kernels): the same toy-world configuration run through the Worker's session path
// (probe → datasets → experiment, as the page drives it) and through `ift-lab experiment` (the CLI, in
// process) gives identical numbers — probe, datasets, fit, every evaluation and every contrast.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/ift-lab';
import type { ExperimentResult } from '../../../src/lab/experiment';
import { BUILTIN_MODELS, TOY_WORLD_ID } from '../../../src/model/builtin';
import { openFsStore } from '../../helpers/fs-store';
import type { StoredRecord } from '../../../src/store/types';
import { Session, type Ctx } from '../../../src/worker/session';
import { tinyTrain, toySessionDeps } from '../../helpers/toy-session';

const DIR = path.join('public', BUILTIN_MODELS[TOY_WORLD_ID]);
const have = existsSync(path.join(DIR, 'model.safetensors')) && existsSync(path.join(DIR, 'world.json'));

/** The numbers of a result, without times, durations and the device (where it ran is not what it computed). */
function numbers(r: ExperimentResult) {
  const { device: _device, ...config } = r.config;
  return {
    config,
    splits: r.splits,
    probe: r.probe,
    datasets: r.datasets,
    base: r.base,
    runs: r.runs.map((x) => ({ ...x, train: { ...x.train, seconds: 0 } })),
    contrasts: r.contrasts,
    sweep: r.sweep,
    underTrained: r.underTrained,
  };
}

describe.skipIf(!have)('the browser and the CLI run the same experiment', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ift-identity-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives identical numbers through the Worker session and through ift-lab experiment', { timeout: 240_000 }, async () => {
    const store = openFsStore(path.join(dir, 'store'));
    const session = new Session(toySessionDeps(store));
    const ctx: Ctx = { progress: () => {}, signal: new AbortController().signal };
    try {
      const probe = await session.probe({ source: { type: 'toyworld', seed: 1 }, k: 1, threshold: 0.25, strict: false, seed: 1, maxPerSplit: 8 }, ctx);
      const size = Math.min(3, probe.known, probe.unknown);
      const ds = await session.buildDatasets(
        { probeId: probe.probeId, conditions: ['harmonious', 'incompatible'], ratios: [], size, responses: 'letter', seed: 3 },
        ctx,
      );
      const out = await session.experiment(
        tinyTrain(ds.datasets.map((d) => d.datasetId), { lr: 0.003, batch: 4 }),
        'paper',
        ctx,
      );
      const rec = (await store.get<StoredRecord & { lab: { experiment: ExperimentResult } }>('runs', out.runId))!;
      const browser = rec.lab.experiment;
      expect(browser.runs).toHaveLength(2);

      // The CLI, given the configuration the browser ran.
      const file = path.join(dir, 'config.json');
      writeFileSync(file, JSON.stringify(browser.config));
      const log: string[] = [];
      const io = { out: () => {}, err: (s: string) => void log.push(s) };
      expect(await main(['experiment', file, '--out', path.join(dir, 'cli'), '--no-estimate', '--device', 'cpu'], io), log.join('\n')).toBe(0);
      const cli = JSON.parse(readFileSync(path.join(dir, 'cli', 'result.json'), 'utf8')) as ExperimentResult;
      expect(numbers(cli)).toEqual(numbers(browser));
      // The CLI also wrote every probed question and every run's adapter in PEFT layout.
      const probed = JSON.parse(readFileSync(path.join(dir, 'cli', 'probe.json'), 'utf8'));
      expect(probed).toHaveLength(browser.probe.items.length);
      expect(probed[0]).toEqual({ ...probed[0], method: 'letter', label: expect.stringMatching(/^(known|unknown|discarded)$/) });
      for (const r of browser.runs) {
        expect(existsSync(path.join(dir, 'cli', 'adapters', r.runId, 'adapter_config.json'))).toBe(true);
        expect(existsSync(path.join(dir, 'cli', 'adapters', r.runId, 'adapter_model.safetensors'))).toBe(true);
      }
    } finally {
      session.dispose();
    }
  });
});
