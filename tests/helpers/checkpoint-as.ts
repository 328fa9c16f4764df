// A fixture model's weights written as a safetensors checkpoint of another dtype (precision tests).
import { f32ToF16Array } from '../../src/engine/convert';
import type { Fixture } from '../../src/model/fixtures';
import { SafetensorsFile, sourceFromBytes, writeSafetensors, type Dtype, type TensorToWrite } from '../../src/model/safetensors';
import { expectedTensors } from '../../src/model/spec';

/** The fixture's weights re-encoded: matrices in `dtype`, norms in F32 (as real bf16 checkpoints often are not). */
export async function checkpointAs(fx: Fixture, dtype: Dtype): Promise<SafetensorsFile> {
  const shapes = expectedTensors(fx.spec);
  const t = new Map<string, TensorToWrite>();
  for (const [name, w] of fx.weights) {
    const shape = shapes.get(name)!;
    if (dtype === 'F32' || shape.length !== 2) t.set(name, { dtype: 'F32', shape, data: w });
    else if (dtype === 'F16') t.set(name, { dtype, shape, data: f32ToF16Array(w) });
    else t.set(name, { dtype, shape, data: Uint16Array.from(new Uint32Array(w.buffer, w.byteOffset, w.length), (x) => x >>> 16) });
  }
  return SafetensorsFile.open(sourceFromBytes(writeSafetensors(t)));
}

