// Prefix reuse across scoring calls (src/model/prefix-cache.ts), judged by the engine's counters: a 5-shot
// probe of several subjects, batches of 8 behind each subject's prefix, forwards each prefix token once, and
// its letter log-probs equal those of a model that forwards every prefix in full on every call.
import { describe, expect, it } from 'vitest';
import { scoreQuestions } from '../../src/lab/probe';
import { fewShotPrefix, pickShots } from '../../src/lab/prompts';
import { initLora } from '../../src/model/lora';
import { fixtureModel } from '../helpers/model';
import { prefixTokensMinimum } from '../../src/model/prefix-cache';
import { syntheticSubjects } from '../../bench/prefix';

describe('prefix reuse across nextTokenLogProbs calls', () => {
  it('a 5-shot probe of 3 subjects forwards each prefix token once; letter log-probs equal full recomputation', async () => {
    const { dev, test } = syntheticSubjects(['geography', 'astronomy', 'virology'], 11);
    const reuse = await fixtureModel('tiny-llama', 'f32');
    const plain = await fixtureModel('tiny-llama', 'f32', { prefixCacheBytes: 0 });
    const opts = { format: { kind: 'kshot', shots: 5 } as const, fewShot: dev };

    const c0 = { ...reuse.counters };
    const got = await scoreQuestions(reuse, test, opts);
    const forwarded = reuse.counters.prefixTokensForwarded - c0.prefixTokensForwarded;
    const reused = reuse.counters.prefixTokensReused - c0.prefixTokensReused;
    const prefixes = ['geography', 'astronomy', 'virology'].map((s) => [
      ...(reuse.tokenizer.bosTokenId === null ? [] : [reuse.tokenizer.bosTokenId]),
      ...reuse.tokenizer.encode(fewShotPrefix(s, pickShots(dev, s, 5))),
    ]);
    const sum = prefixes.reduce((a, p) => a + p.length, 0);
    const minimum = prefixTokensMinimum(prefixes);
    console.log(`prefix tokens: forwarded ${forwarded}, minimum ${minimum}, Σ prefix lengths ${sum}, reused ${reused}`);
    // Subjects share the header's opening ("The following are …"), so the minimum is below Σ lengths.
    expect(minimum).toBeLessThan(sum);
    expect(forwarded).toBe(minimum);
    // 2 calls per subject (11 questions, batches of 8): each call covers its whole prefix, forwarded or reused.
    expect(forwarded + reused).toBe(2 * sum);

    const p0 = plain.counters.prefixTokensForwarded;
    const want = await scoreQuestions(plain, test, opts);
    expect(plain.counters.prefixTokensForwarded - p0).toBe(2 * sum);
    let worst = 0;
    got.forEach((g, i) => g.probs.forEach((p, j) => (worst = Math.max(worst, Math.abs(p - want[i].probs[j])))));
    console.log(`max |Δp| reuse vs none: ${worst.toExponential(2)}`);
    // The calls that reuse a whole prefix read the very KV rows the first call wrote: bit-identical. A subject
    // whose first call reuses another subject's header rows forwards its remainder at past = h, a different
    // batching of the same arithmetic; f32 rounding of that reordering is ≤ 1e-6 on probabilities.
    expect(worst).toBeLessThan(1e-6);

    // A second probe reuses everything: nothing forwarded.
    const c1 = reuse.counters.prefixTokensForwarded;
    const again = await scoreQuestions(reuse, test, opts);
    expect(reuse.counters.prefixTokensForwarded - c1).toBe(0);
    again.forEach((g, i) => expect(g.probs).toEqual(got[i].probs));

    // Staging buffers are pooled: a steady state of reads creates none.
    const s0 = reuse.counters.stagingAllocations;
    await scoreQuestions(reuse, test, opts);
    expect(reuse.counters.stagingAllocations - s0).toBe(0);
    reuse.dispose();
    plain.dispose();
  });

  it('an adapter is part of the key: its own prefixes, dropped on unload, never a stale hit after reload', async () => {
    const m = await fixtureModel('tiny-llama', 'f32');
    const prefix = m.tokenizer.encode('Q: the cat and the dog\nA: (B)\n');
    const prompts = ['Q: is it', 'Q: a'].map((s) => m.tokenizer.encode(s));
    const candidates = m.tokenizer.encode(' A B C D').slice(0, 4);
    const base = await m.nextTokenLogProbs({ prefix, prompts, candidates });
    const config = { rank: 4, alpha: 8, dropout: 0, targets: ['q' as const, 'v' as const] };
    const state = { config, tensors: initLora(m.spec, config, 7), step: 0 };
    // B ≠ 0 so the adapter changes the outputs.
    for (const [k, v] of Object.entries(state.tensors)) if (k.includes('lora_B')) v.fill(0.05);
    const ref = await m.loadAdapter(state);
    const f0 = m.counters.prefixTokensForwarded;
    const tuned = await m.nextTokenLogProbs({ prefix, prompts, candidates, adapter: ref });
    expect(m.counters.prefixTokensForwarded - f0).toBe(prefix.length);
    expect(Math.abs(tuned[0][0] - base[0][0])).toBeGreaterThan(1e-4);
    // Retrained under the same configuration and reloaded: a new entry, not the old adapter's rows.
    m.unloadAdapter(ref);
    for (const [k, v] of Object.entries(state.tensors)) if (k.includes('lora_B')) v.fill(-0.05);
    const ref2 = await m.loadAdapter(state);
    const f1 = m.counters.prefixTokensForwarded;
    const retrained = await m.nextTokenLogProbs({ prefix, prompts, candidates, adapter: ref2 });
    expect(m.counters.prefixTokensForwarded - f1).toBe(prefix.length);
    expect(Math.abs(retrained[0][0] - tuned[0][0])).toBeGreaterThan(1e-4);
    // The base model's entry is untouched by all this.
    const f2 = m.counters.prefixTokensForwarded;
    expect(await m.nextTokenLogProbs({ prefix, prompts, candidates })).toEqual(base);
    expect(m.counters.prefixTokensForwarded - f2).toBe(0);
    m.dispose();
  });
});
