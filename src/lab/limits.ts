/**
 * The largest value the lab accepts for each number a user sets, and why. A typo (epochs 1e9, rank 1e6)
 * is refused with the reason instead of running for days or exhausting memory.
 */
export const LIMITS = {
  rank: { max: 256, why: 'LoRA ranks above 256 approach full fine-tuning and do not fit in a browser; the paper uses 16' },
  alpha: { max: 4096, why: 'alpha / rank scales the update; beyond 4096 training diverges' },
  learningRate: { max: 1, why: 'a LoRA learning rate above 1 diverges at the first step; the paper uses 2e-4' },
  weightDecay: { max: 1, why: 'decay above 1 per step erases the adapter' },
  eps: { max: 1, why: "Adam's epsilon is a tiny stabiliser (1e-8)" },
  epochs: { max: 100, why: 'the paper trains 3 epochs; beyond 100 a small dataset is memorised long before the end' },
  batchSize: { max: 1024, why: 'a batch must fit in GPU memory; use 8–64' },
  maxSeqLen: { max: 32_768, why: 'longer than any model the lab loads can attend' },
  clipNorm: { max: 1e6, why: 'a clip norm that large never clips; use 0 to disable clipping' },
  seed: { max: 2 ** 31 - 1, why: 'seeds are 32-bit integers' },
  seeds: { max: 20, why: 'each seed trains every condition again (20 seeds × 12 conditions is 240 runs)' },
  ratios: { max: 50, why: 'each ratio is one more trained run per seed' },
  size: { max: 1_000_000, why: 'more items than any question pool the lab reads' },
  caps: { max: 1_000_000, why: 'more questions than any pool the lab reads' },
  shots: { max: 25, why: 'the k-shot prefix must fit in the context window (MMLU has 5 solved examples per subject)' },
  probeBatch: { max: 1024, why: 'a batch must fit in GPU memory' },
  minPerCondition: { max: 100_000, why: 'more than any pool can supply' },
  generalRatio: { max: 100, why: 'more general examples than that drown the knowledge items' },
  bootstrapSamples: { max: 100_000, why: '10,000 samples already give the interval to 3 digits' },
  subjects: { max: 1_000, why: 'MMLU has 57 subjects' },
  slickPrompts: { max: 50, why: 'each SliCK prompt scores the whole pool again (Gekhman et al. used 10)' },
  slickSamples: { max: 10_000, why: 'the sampled arm is exact; Gekhman et al. drew 16' },
  temperature: { max: 100, why: 'at high temperature every option is equally likely' },
  name: { max: 120, why: 'the name becomes part of folder and file names' },
} as const;

export type LimitName = keyof typeof LIMITS;

/** "must be ≤ 100 (why)" */
export const tooLarge = (name: LimitName): string => `must be ≤ ${LIMITS[name].max.toLocaleString('en-US')} (${LIMITS[name].why})`;
