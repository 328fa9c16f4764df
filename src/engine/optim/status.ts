import { NonFiniteError } from '../errors';
import { alignElems, type Runtime, type Tensor } from '../runtime';
import { ADAMW_STATUS_WORDS } from './adamw';

/**
 * One small buffer holding everything a training step reports, so the caller reads it back once:
 * the optimizer's status (‖g‖², ‖g‖, non-finite flag, clip coefficient) and the loss mean, each in a
 * 256-byte aligned view (storage views must start on minStorageBufferOffsetAlignment).
 */
export interface TrainStatus {
  buffer: Tensor;
  /** Pass as AdamWArgs.status. */
  adam: Tensor;
  /** Pass as CrossEntropyArgs.mean. */
  loss: Tensor;
}

export function trainStatus(rt: Runtime): TrainStatus {
  const lossAt = alignElems(ADAMW_STATUS_WORDS);
  const buffer = rt.tensor('train status', [lossAt + alignElems(1)]);
  return {
    buffer,
    adam: rt.view(buffer, 0, [ADAMW_STATUS_WORDS], 'adamw status'),
    loss: rt.view(buffer, lossAt, [1], 'loss mean'),
  };
}

export interface StepReport {
  loss: number;
  gradNorm: number;
  clipCoef: number;
}

/** Read the step's loss and gradient norm in one read-back; throw NonFiniteError if the update was skipped. */
export async function readTrainStatus(rt: Runtime, s: TrainStatus, step?: number): Promise<StepReport> {
  const words = await rt.readF32(s.buffer);
  const loss = words[alignElems(ADAMW_STATUS_WORDS)];
  if (words[2] !== 0) throw new NonFiniteError('the gradients', step);
  if (!Number.isFinite(loss)) throw new NonFiniteError('the loss', step);
  return { loss, gradNorm: words[1], clipCoef: words[3] };
}
