// A Hugging Face model folder with its own question layout: `ift-lab experiment` probes it in that layout
// (config `prompt`), and the probabilities it writes to probe.json are those of a direct engine forward of
// the same prompts — written out here by hand, not by the lab's prompt code.
import { mkdtempSync, openAsBlob, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/ift-lab';
import { createEngineModel } from '../../../src/model/engine-model';
import { loadFolderFiles } from '../../../src/model/hub';
import { checkModelFiles } from '../../../src/model/load';
import { writeFixture } from '../../helpers/fixtures';
import { CpuRuntime } from '../../../src/engine/cpu-runtime';

const LAYOUT = {
  header: 'Quiz on {subject}:\n',
  question: 'Q: {question}\n(A) {A} (B) {B} (C) {C} (D) {D}\nPick one:',
  answer: ' {letter}',
  shotSeparator: '\n--\n',
};

const WORDS = ['red', 'blue', 'green', 'gold', 'tin', 'oak', 'elm', 'fox', 'owl', 'cat', 'sun', 'sea'];
function questions(subject: string, n: number, offset: number) {
  return Array.from({ length: n }, (_, i) => ({
    id: `${subject}-${i}`,
    subject,
    question: `Which is item ${i + offset}?`,
    options: [0, 1, 2, 3].map((k) => WORDS[(i + offset + 3 * k) % WORDS.length]),
    answer: 'ABCD'[(i * 7 + offset) % 4],
  }));
}

describe('a model folder probed in its own question layout', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ift-layout-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes probe.json probabilities equal to a direct forward of the hand-written prompts', { timeout: 120_000 }, async () => {
    const fx = writeFixture('tiny-llama', dir, false);
    const pool = [...questions('alpha', 16, 0), ...questions('beta', 4, 100), ...questions('gamma', 4, 200)];
    const shots = questions('alpha', 1, 50).map((q) => ({ ...q, id: 'shot-alpha' }));
    writeFileSync(path.join(dir, 'pool.jsonl'), pool.map((q) => JSON.stringify(q)).join('\n'));
    writeFileSync(path.join(dir, 'shots.jsonl'), shots.map((q) => JSON.stringify(q)).join('\n'));
    const config = {
      name: 'layout',
      model: { id: fx.dir },
      questions: { kind: 'file', path: path.join(dir, 'pool.jsonl'), fewShotPath: path.join(dir, 'shots.jsonl') },
      subjects: { train: ['alpha'], related: ['beta'] },
      splits: { homoFraction: 0.25 },
      prompt: LAYOUT,
      probe: { shots: 1, threshold: 0, minPerCondition: 1 },
      conditions: ['harmonious', 'incompatible'],
      seeds: [1],
      training: { lora: { rank: 2, alpha: 4, targets: ['q', 'v'] }, learningRate: 0.001, epochs: 1, batchSize: 4, maxSeqLen: 128 },
      evaluation: { bootstrapSamples: 20 },
    };
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    const log: string[] = [];
    const code = await main(['experiment', path.join(dir, 'config.json'), '--out', path.join(dir, 'out'), '--no-estimate', '--device', 'cpu'], { out: () => {}, err: (s) => void log.push(s) });
    expect(code, log.join('\n')).toBe(0);
    const probed = JSON.parse(readFileSync(path.join(dir, 'out', 'probe.json'), 'utf8')) as { id: string; probs: number[]; pred: number; label: string }[];
    const manifest = JSON.parse(readFileSync(path.join(dir, 'out', 'manifest.json'), 'utf8'));
    expect(probed.length).toBeGreaterThan(0);

    // The same weights, loaded directly, in the precision the CLI used.
    const files = await loadFolderFiles(fx.dir, async (f) => (existsSync(path.join(fx.dir, f)) ? openAsBlob(path.join(fx.dir, f)) : null));
    const model = await createEngineModel(new CpuRuntime(), checkModelFiles(files), { precision: manifest.device.precision, id: fx.dir });
    try {
      const tok = model.tokenizer;
      const q = (x: (typeof pool)[number]) => `Q: ${x.question}\n(A) ${x.options[0]} (B) ${x.options[1]} (C) ${x.options[2]} (D) ${x.options[3]}\nPick one:`;
      const prefix = `Quiz on alpha:\n${q(shots[0])} ${shots[0].answer}\n--\n`;
      const bos = tok.bosTokenId === null ? [] : [tok.bosTokenId];
      for (const p of probed) {
        const x = pool.find((y) => y.id === p.id)!;
        const text = prefix + q(x);
        const ids = [...bos, ...tok.encode(text)];
        const letters = ['A', 'B', 'C', 'D'].map((l) => tok.encode(text + ' ' + l).at(-1)!);
        const [lp] = await model.nextTokenLogProbs({ prompts: [ids], candidates: letters });
        const m = Math.max(...lp);
        const e = [...lp].map((v) => Math.exp(v - m));
        const z = e.reduce((a, b) => a + b, 0);
        const probs = e.map((v) => v / z);
        for (let k = 0; k < 4; k++) expect(Math.abs(p.probs[k] - probs[k]), `${p.id} option ${k}`).toBeLessThan(1e-5);
      }
    } finally {
      model.dispose();
    }
    // The layout reached the datasets too: every training conversation is written in it.
    const ds = readFileSync(path.join(dir, 'out', 'datasets', 'harmonious.jsonl'), 'utf8');
    expect(ds).toContain('Quiz on alpha:\\nQ: ');
  });
});
