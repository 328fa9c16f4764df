/**
 * Check the engine against an independent implementation of the same model (the app passes an
 * onnxruntime-web runner; tests pass transformers.js in Node): full logits at every position of each prompt.
 */
import type { EngineModel } from './engine-model';

export interface VerifyReport {
  /** Largest |engine − reference| over every logit of every position. */
  maxAbsLogitDiff: number;
  /** Fraction of positions whose argmax token agrees. */
  top1Agreement: number;
  positions: number;
}

/** `reference(ids)` returns, per sequence, its logits [len, V] row-major. */
export async function verifyAgainstReference(
  model: EngineModel,
  reference: (ids: number[][]) => Promise<Float32Array[]>,
  prompts: readonly (readonly number[])[],
): Promise<VerifyReport> {
  const ids = prompts.map((p) => [...p]);
  const [ours, theirs] = [await model.logits(ids), await reference(ids)];
  const V = model.spec.vocabSize;
  let maxAbsLogitDiff = 0;
  let agree = 0;
  let positions = 0;
  ids.forEach((seq, i) => {
    if (theirs[i].length !== seq.length * V) throw new Error(`verify: the reference gave ${theirs[i].length} logits for ${seq.length}×${V}`);
    for (let s = 0; s < seq.length; s++) {
      let a = 0;
      let b = 0;
      for (let v = 0; v < V; v++) {
        const x = ours[i][s * V + v];
        const y = theirs[i][s * V + v];
        const d = Math.abs(x - y);
        maxAbsLogitDiff = Number.isNaN(d) ? Infinity : Math.max(maxAbsLogitDiff, d);
        if (x > ours[i][s * V + a]) a = v;
        if (y > theirs[i][s * V + b]) b = v;
      }
      if (a === b) agree++;
      positions++;
    }
  });
  return { maxAbsLogitDiff, top1Agreement: positions ? agree / positions : 1, positions };
}
