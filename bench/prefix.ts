/**
 * Prefix reuse in a 5-shot probe (issue 12): several subjects, each scored in batches of 8 behind its k-shot
 * prefix, through the lab's own scoring path. Reports the prefix tokens the model forwarded, the fewest any
 * cache could (`prefixTokensMinimum`, the distinct leading sequences) and Σ prefix lengths per call (what
 * scoring without reuse forwards), from the engine's counters, and the time of the probe with and without reuse.
 */
import { scoreQuestions } from '../src/lab/probe';
import { fewShotPrefix, pickShots } from '../src/lab/prompts';
import type { Question } from '../src/lab/questions/types';
import type { GpuRuntime } from '../src/engine/runtime';
import { createEngineModel } from '../src/model/engine-model';
import { makeFixture } from '../src/model/fixtures';
import { prefixTokensMinimum } from '../src/model/prefix-cache';
import { createTokenizer } from '../src/model/tokenizer';
import type { BenchEntry } from './types';

/** Deterministic questions: `n` test and 5 dev questions per subject, short enough for the tiny fixture. */
export function syntheticSubjects(subjects: readonly string[], n: number): { dev: Question[]; test: Question[] } {
  const make = (subject: string, split: string, i: number): Question => ({
    id: `${subject}/${split}/${i}`,
    subject,
    question: `Which ${subject} fact is number ${i}?`,
    options: [`one ${i}`, `two ${i + 1}`, `three ${i + 2}`, `four ${i + 3}`],
    answer: (i % 4) as 0 | 1 | 2 | 3,
  });
  const dev: Question[] = [];
  const test: Question[] = [];
  for (const s of subjects) {
    for (let i = 0; i < 5; i++) dev.push(make(s, 'dev', i));
    for (let i = 0; i < n; i++) test.push(make(s, 'test', i));
  }
  return { dev, test };
}

export async function benchPrefix(rt: GpuRuntime): Promise<BenchEntry[]> {
  const fx = makeFixture('tiny-llama');
  const tokenizer = createTokenizer(fx.tokenizerJson, fx.tokenizerConfig, { spec: fx.spec });
  const subjects = ['geography', 'astronomy', 'virology', 'nutrition', 'philosophy'];
  const { dev, test } = syntheticSubjects(subjects, 24);
  const opts = { format: { kind: 'kshot', shots: 5 } as const, fewShot: dev };
  const bos = tokenizer.bosTokenId === null ? [] : [tokenizer.bosTokenId];
  const prefixes = subjects.map((s) => [...bos, ...tokenizer.encode(fewShotPrefix(s, pickShots(dev, s, 5)))]);
  const calls = Math.ceil(24 / 8);
  const out: BenchEntry[] = [];
  for (const reuse of [true, false]) {
    const m = await createEngineModel(rt, { spec: fx.spec, tokenizer, weights: fx.weights }, { precision: 'f32', prefixCacheBytes: reuse ? undefined : 0 });
    await scoreQuestions(m, test.slice(0, 1), opts); // compile pipelines
    m.clearPrefixCache();
    const f0 = m.counters.prefixTokensForwarded;
    const t0 = performance.now();
    await scoreQuestions(m, test, opts);
    const ms = performance.now() - t0;
    out.push({
      kernel: reuse ? 'probe_prefix_reuse' : 'probe_prefix_none',
      shape: `tiny-llama f32, ${subjects.length} subjects × 24 questions, 5-shot, batch 8`,
      ms,
      extra: {
        prefixTokensForwarded: m.counters.prefixTokensForwarded - f0,
        prefixTokensMinimum: prefixTokensMinimum(prefixes),
        prefixTokensWithoutReuse: calls * prefixes.reduce((a, p) => a + p.length, 0),
      },
    });
    m.dispose();
  }
  return out;
}
