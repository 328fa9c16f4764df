// Beliefs freed of letter position on the real engine and the shipped toy model, which leans on one letter
// for facts it was never taught (docs: science.md, "Beliefs were letter positions"; "A" for the v1 model, "B"
// for v3): the debiased probe's four shifts, passed with a shared prefix, score exactly what four separate
// forwards score, and its beliefs no longer pile on one letter.
import { openAsBlob, readFileSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngineModel, type EngineModel } from '../../src/model/engine-model';
import { loadFolderFiles } from '../../src/model/hub';
import { checkModelFiles } from '../../src/model/load';
import { formatLetterIds, probe, scoreQuestions, PAPER_PROBE } from '../../src/lab/probe';
import { fewShotPrefix, formatQuestion, pickShots, rotate } from '../../src/lab/prompts';
import { toyWorldBank, type ToyWorld } from '../../src/lab/toyworld';
import { modelRuntime } from '../helpers/model';

const DIR = join('public', 'models', 'toy-world');
const world = JSON.parse(readFileSync(join(DIR, 'world.json'), 'utf8')) as ToyWorld;
const bank = toyWorldBank(world);
const never = new Set(world.questions.filter((q) => q.group === 'none').map((q) => q.id));
// Facts the model never saw, a few per subject.
const unknown = bank.pool.filter((q) => never.has(q.id)).filter((_, i) => i % 4 === 0).slice(0, 24);
let model: EngineModel | undefined;
afterAll(() => model?.dispose());

async function load(): Promise<EngineModel> {
  const files = await loadFolderFiles('builtin:toy-world', async (f) =>
    access(join(DIR, f)).then(
      () => openAsBlob(join(DIR, f)),
      () => null,
    ),
  );
  return (model ??= await createEngineModel(await modelRuntime(), checkModelFiles(files), { precision: 'f32' }));
}

describe('the debiased probe on the toy model (Dawn)', () => {
  it('scores each shift as a separate forward would', async () => {
    const m = await load();
    const q = unknown[0];
    const [s] = await scoreQuestions(m, [q], { format: { kind: 'kshot', shots: 5 }, method: 'debiased', fewShot: bank.fewShot });
    const ids = formatLetterIds(m.tokenizer, { kind: 'kshot', shots: 5 });
    const bos = m.tokenizer.bosTokenId === null ? [] : [m.tokenizer.bosTokenId];
    const shots = pickShots(bank.fewShot, q.subject, 5, q.id);
    const want = [0, 0, 0, 0];
    for (let k = 0; k < 4; k++) {
      const r = rotate(q, k);
      const full = [...bos, ...m.tokenizer.encode(fewShotPrefix(q.subject, shots)), ...m.tokenizer.encode(formatQuestion(r))];
      const [lp] = await m.nextTokenLogProbs({ prompts: [full], candidates: ids });
      const e = Array.from(lp, Math.exp);
      const z = e.reduce((a, b) => a + b, 0);
      for (let i = 0; i < 4; i++) want[(i + k) % 4] += e[i] / z / 4;
    }
    s.probs.forEach((p, i) => expect(Math.abs(p - want[i])).toBeLessThan(1e-5));
  }, 120_000);

  it('measures the letter-position habit the same way under both probes, and the debiased beliefs are freed of it', async () => {
    const m = await load();
    const settings = { ...PAPER_PROBE, threshold: 0 };
    const letter = await probe(m, unknown, settings, { fewShot: bank.fewShot });
    const deb = await probe(m, unknown, { ...settings, method: 'debiased' }, { fewShot: bank.fewShot });
    const share = (preds: number[]) => Math.max(...[0, 1, 2, 3].map((l) => preds.filter((p) => p === l).length / preds.length));
    console.log(`toy model, ${unknown.length} never-taught facts: letter answers ${letter.letterBias.predicted.map((x) => x.toFixed(2))}, gold ${letter.letterBias.gold.map((x) => x.toFixed(2))}; debiased beliefs top letter ${share(deb.items.map((i) => i.pred)).toFixed(2)}`);
    // The same habit is measured by both probes (the debiased one from its unshifted letters)…
    expect(deb.letterBias.predicted).toEqual(letter.letterBias.predicted);
    expect(letter.letterBias.predicted.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    // …and the debiased beliefs pile on no letter: the v3 model answers "B" to half of these facts by letter
    // (the v1 model answered "A" on 71 %; the planted-bias model of tests/unit/lab/beliefs.test.ts keeps that case),
    // its debiased beliefs put no letter above 40 %, below the letter probe's top share.
    const debShare = share(deb.items.map((i) => i.pred));
    expect(debShare).toBeLessThan(0.4);
    expect(debShare).toBeLessThan(Math.max(...letter.letterBias.predicted));
  }, 300_000);
});
