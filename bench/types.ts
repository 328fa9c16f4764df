/** One line of `npm run bench -- --json`. */
export interface BenchEntry {
  /** e.g. "matmul_tiled", "attention_forward", "lora_step". */
  kernel: string;
  /** Human-readable shape, e.g. "M=256 N=576 K=576". */
  shape: string;
  /** Median milliseconds per run after warm-up (performance.now around onSubmittedWorkDone). */
  ms: number;
  gflops?: number;
  gbps?: number;
  /** Anything else worth reporting (tokens/s, dispatches, peak bytes…). */
  extra?: Record<string, number | string>;
}
