import { describe, expect, it } from 'vitest';
import { parseExperimentConfig } from '../../../src/lab/experiment';
import { startingPointFor, STARTING_POINTS } from '../../../src/worker/starting-points';
import { curatedModels } from '../../../src/model/catalogue';

describe('starting points per model family', () => {
  it('cover every curated Hub model, base and -Instruct, and nothing else', async () => {
    const models = await curatedModels();
    for (const m of models) expect(startingPointFor(m.id)?.family, m.id).toBe(m.family.replace(/-[\d.]+[MB]$/, ''));
    expect(new Set(models.map((m) => startingPointFor(m.id)!.family))).toEqual(new Set(STARTING_POINTS.map((s) => s.family)));
    for (const id of ['builtin:toy-world', 'openai-community/gpt2', 'Qwen/Qwen2-0.5B', 'my-SmolLM2-fork/x']) expect(startingPointFor(id), id).toBeNull();
  });

  it('are valid training settings, each with its reason', () => {
    for (const s of STARTING_POINTS) {
      const c = parseExperimentConfig({ name: 'x', model: { id: 'x' }, questions: { kind: 'toyworld' }, subjects: { train: ['toy_continents'] }, conditions: ['harmonious', 'incompatible'], training: s.training });
      expect(c.training).toMatchObject(s.training);
      expect(s.why.length).toBeGreaterThan(40);
    }
  });
});
