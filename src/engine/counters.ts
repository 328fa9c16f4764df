/** What the engine did, counted by the engine itself: how speed is judged where timings mean little. */
export interface Counters {
  /** Compute dispatches encoded. */
  dispatches: number;
  /** Command buffers submitted. */
  submits: number;
  /** Floating-point operations the dispatched kernels perform (multiply-add = 2). */
  flops: number;
  /** Estimated bytes the dispatched kernels read and write in GPU memory. */
  bytes: number;
  /** Bytes uploaded to the GPU with writeBuffer. */
  uploadBytes: number;
  /** Bytes read back from the GPU. */
  readbackBytes: number;
  /** GPU memory currently allocated by this runtime. */
  liveBytes: number;
  /** Most GPU memory allocated at once since the last reset. */
  peakBytes: number;
  /** Buffers created (a steady-state step should create none). */
  allocations: number;
  /** Read-back staging buffers created (pooled: a steady state of reads of one size creates none). */
  stagingAllocations: number;
  /** Prefix tokens run through the model (scoring with a shared prefix; reused KV rows are not counted). */
  prefixTokensForwarded: number;
  /** Prefix tokens whose KV rows came from the prefix cache instead. */
  prefixTokensReused: number;
}

export function zeroCounters(): Counters {
  return { dispatches: 0, submits: 0, flops: 0, bytes: 0, uploadBytes: 0, readbackBytes: 0, liveBytes: 0, peakBytes: 0, allocations: 0,
    stagingAllocations: 0, prefixTokensForwarded: 0, prefixTokensReused: 0 };
}
