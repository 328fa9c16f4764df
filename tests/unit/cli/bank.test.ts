import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadGeneral } from '../../../src/cli/bank';
import { parseExperimentConfig } from '../../../src/lab/experiment';
import { generateWorld } from '../../../src/lab/toyworld';

const base = {
  name: 'g',
  model: { id: 'builtin:toy-world' },
  questions: { kind: 'toyworld', seed: 42 },
  subjects: { train: ['toy_continents'], related: ['toy_languages'] },
  training: { lora: { rank: 4, alpha: 8, targets: ['q', 'v'] }, learningRate: 1e-3, epochs: 1, batchSize: 4 },
};

describe("the CLI's general instruction data", () => {
  it('"builtin": "toyworld" is the toy world\'s own set; no "general" is none', () => {
    const set = loadGeneral(parseExperimentConfig({ ...base, general: { builtin: 'toyworld' } }));
    // Two instructions per entity of the shipped world.
    expect(set).toHaveLength(2 * generateWorld({ seed: 42 }).entities.length);
    expect(set![0].messages.at(-1)!.role).toBe('assistant');
    expect(loadGeneral(parseExperimentConfig(base))).toBeUndefined();
  });

  it('refuses the toy set for other questions, and a file with a bad row, naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ift-general-'));
    writeFileSync(join(dir, 'q.csv'), 'q,a,b,c,d,A\n');
    const other = parseExperimentConfig({ ...base, questions: { kind: 'file', path: join(dir, 'q.csv') }, general: { builtin: 'toyworld' } });
    expect(() => loadGeneral(other)).toThrow(/written in the toy world's words/);
    const file = join(dir, 'g.jsonl');
    writeFileSync(file, '{"instruction":"a","output":"b"}\n{"messages":[{"role":"user","content":"x"}]}\n');
    expect(() => loadGeneral(parseExperimentConfig({ ...base, general: { path: file } }))).toThrow(/g\.jsonl has 1 bad row\(s\):\nrow 2, messages: must be a list of at least two turns/);
    writeFileSync(file, '[{"instruction":"a","output":"b"},{"conversations":[{"from":"human","value":"q"},{"from":"gpt","value":"r"}]}]');
    expect(loadGeneral(parseExperimentConfig({ ...base, general: { path: file, ratio: 0.5 } }))).toHaveLength(2);
  });
});

describe('the content hash of every input file a config names', () => {
  it('changes when a file changes (an answer moved), and names each file', async () => {
    const { inputHashes } = await import('../../../src/cli/bank');
    const dir = mkdtempSync(join(tmpdir(), 'ift-inputs-'));
    const q = join(dir, 'q.csv');
    const g = join(dir, 'g.jsonl');
    writeFileSync(q, 'question,A,B,C,D,answer\nWhich?,a,b,c,d,C\n');
    writeFileSync(g, '{"instruction":"hi","output":"there"}\n');
    const cfg = parseExperimentConfig({ ...base, questions: { kind: 'file', path: q }, general: { path: g } });
    const before = inputHashes(cfg);
    expect(Object.keys(before)).toEqual([q, g]);
    writeFileSync(q, 'question,A,B,C,D,answer\nWhich?,a,b,c,d,D\n');
    const after = inputHashes(cfg);
    expect(after[q]).not.toBe(before[q]);
    expect(after[g]).toBe(before[g]);
    expect(Object.keys(inputHashes(parseExperimentConfig(base)))).toEqual(['toy world (world.json)']);
  });
});
