import { describe, expect, it } from 'vitest';
import {
  checkTensors, f16ToF32, MAX_HEADER_BYTES, SafetensorsFile, ShardedCheckpoint, sourceFromBlob, sourceFromBytes, toF32, writeSafetensors,
  type ByteSource,
} from '../../../src/model/safetensors';
import { SafetensorsError, WeightsMismatchError } from '../../../src/model/errors';
import type { ModelSpec } from '../../../src/model/spec';
import { expectedTensors } from '../../../src/model/spec';

/** A file from a raw header string and `dataBytes` of data. */
function craft(header: string, dataBytes = 0, lengthField?: bigint): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.byteLength + dataBytes);
  new DataView(out.buffer).setBigUint64(0, lengthField ?? BigInt(h.byteLength), true);
  out.set(h, 8);
  return out;
}

async function openErr(bytes: Uint8Array): Promise<SafetensorsError> {
  try {
    await SafetensorsFile.open(sourceFromBytes(bytes), 'x.safetensors');
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    expect((e as SafetensorsError).advice.length).toBeGreaterThan(20);
    expect((e as SafetensorsError).message).toMatch(/^x\.safetensors: /);
    return e as SafetensorsError;
  }
  throw new Error('expected an error');
}

describe('safetensors writer and reader', () => {
  it('round-trips F32, F16 and BF16 with metadata, reading lazily', async () => {
    const a = new Float32Array([1, -2.5, 3.25, 0, 1e-3, 7]);
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x3555, 0x0001]); // 1, -2, 0.333..., smallest subnormal
    const bf16 = new Uint16Array([0x3f80, 0xc0a0]); // 1, -5
    const bytes = writeSafetensors(
      { a: { dtype: 'F32', shape: [2, 3], data: a }, h: { dtype: 'F16', shape: [4], data: f16 }, b: { dtype: 'BF16', shape: [2, 1], data: bf16 } },
      { format: 'pt' },
    );
    expect((new DataView(bytes.buffer).getUint32(0, true) + 8) % 8).toBe(0);
    const reads: [number, number][] = [];
    const src: ByteSource = { size: bytes.byteLength, read: async (b, e) => (reads.push([b, e]), bytes.slice(b, e)) };
    const f = await SafetensorsFile.open(src);
    expect(f.metadata).toEqual({ format: 'pt' });
    expect([...f.tensors.keys()]).toEqual(['a', 'h', 'b']);
    expect(f.tensors.get('a')!.shape).toEqual([2, 3]);
    expect([...(await f.readF32('a'))]).toEqual([...a]);
    expect([...(await f.readF32('h'))]).toEqual([1, -2, f16ToF32(0x3555), 2 ** -24]);
    expect(f16ToF32(0x3555)).toBeCloseTo(1 / 3, 3);
    expect([...(await f.readF32('b'))]).toEqual([1, -5]);
    // Each read touched only the header or one tensor's span.
    const t = f.tensors.get('h')!;
    expect(reads).toContainEqual([t.begin, t.end]);
    expect(reads.every(([b, e]) => e - b <= Math.max(24, bytes.byteLength - 36))).toBe(true);
  });

  it('reads from a Blob', async () => {
    const bytes = writeSafetensors({ w: { dtype: 'F32', shape: [3], data: new Float32Array([4, 5, 6]) } });
    const f = await SafetensorsFile.open(sourceFromBlob(new Blob([bytes])));
    expect([...(await f.readF32('w'))]).toEqual([4, 5, 6]);
  });

  it('converts bf16 and f16 specials', () => {
    expect([...toF32('BF16', new Uint8Array([0x80, 0x7f, 0x80, 0xff]))]).toEqual([Infinity, -Infinity]);
    expect(Number.isNaN(f16ToF32(0x7e00))).toBe(true);
  });
});

describe('safetensors rejects bad files', () => {
  it('too short for the length field', async () => {
    expect((await openErr(new Uint8Array(5))).problem).toBe('truncated');
  });
  it('absurd header length (not safetensors, e.g. a PyTorch zip)', async () => {
    const e = await openErr(craft('{}', 0, BigInt(MAX_HEADER_BYTES + 1)));
    expect(e.problem).toBe('not-safetensors');
    const zip = new Uint8Array(64);
    zip.set([0x50, 0x4b, 0x03, 0x04]);
    expect((await openErr(zip)).problem).toBe('not-safetensors');
  });
  it('header length beyond the file (truncated)', async () => {
    const full = craft('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 4);
    expect((await openErr(full.subarray(0, 20))).problem).toBe('truncated');
  });
  it('header not JSON', async () => {
    const e = await openErr(craft('{"a": nope}'));
    expect(e.problem).toBe('not-safetensors');
    expect(e.message).toMatch(/JSON/);
  });
  it('header not an object / not starting with {', async () => {
    expect((await openErr(craft('[1,2,3]'))).problem).toBe('not-safetensors');
  });
  it('unsupported dtype named', async () => {
    const e = await openErr(craft('{"q":{"dtype":"I8","shape":[4],"data_offsets":[0,4]}}', 4));
    expect(e.problem).toBe('unsupported-dtype');
    expect(e.message).toMatch(/I8/);
    expect(e.advice).toMatch(/quantised/);
  });
  it('shape × dtype disagrees with the byte span (header lies about sizes)', async () => {
    const e = await openErr(craft('{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}', 12));
    expect(e.problem).toBe('bad-header');
    expect(e.message).toMatch(/needs 16 bytes but data_offsets span 12/);
  });
  it('offsets past the end of the file (truncated data)', async () => {
    const e = await openErr(craft('{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', 8));
    expect(e.problem).toBe('truncated');
  });
  it('overlapping tensors', async () => {
    const e = await openErr(
      craft('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', 12),
    );
    expect(e.message).toMatch(/overlap/);
  });
  it('malformed entries and metadata', async () => {
    expect((await openErr(craft('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}'))).message).toMatch(/shape/);
    expect((await openErr(craft('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4]}}', 4))).message).toMatch(/data_offsets/);
    expect((await openErr(craft('{"__metadata__":{"a":1}}'))).message).toMatch(/__metadata__/);
  });
});

const TINY: ModelSpec = {
  arch: 'qwen2', vocabSize: 10, hiddenSize: 4, intermediateSize: 6, numLayers: 2, numHeads: 2, numKvHeads: 1, headDim: 2,
  rmsNormEps: 1e-6, ropeTheta: 10000, ropeScaling: null, maxPositionEmbeddings: 32, tieWordEmbeddings: true,
  attentionBias: true, bosTokenId: null, eosTokenIds: [1],
};
const shapesOf = (spec: ModelSpec) => new Map([...expectedTensors(spec)].map(([n, shape]) => [n, { shape }]));

describe('checkTensors', () => {
  it('accepts a complete checkpoint (and a redundant tied lm_head)', () => {
    const m = shapesOf(TINY);
    expect(() => checkTensors(m, TINY)).not.toThrow();
    m.set('lm_head.weight', { shape: [10, 4] });
    expect(() => checkTensors(m, TINY)).not.toThrow();
  });
  it('lists every missing, unexpected and misshapen tensor', () => {
    const m = shapesOf(TINY);
    m.delete('model.layers.1.self_attn.q_proj.bias');
    m.delete('model.norm.weight');
    m.set('model.layers.0.mlp.up_proj.weight', { shape: [7, 4] });
    m.set('model.layers.2.input_layernorm.weight', { shape: [4] });
    try {
      checkTensors(m, TINY);
      throw new Error('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(WeightsMismatchError);
      const w = e as WeightsMismatchError;
      expect(w.missing).toEqual(['model.layers.1.self_attn.q_proj.bias', 'model.norm.weight']);
      expect(w.unexpected).toEqual(['model.layers.2.input_layernorm.weight']);
      expect(w.misshapen).toEqual([{ name: 'model.layers.0.mlp.up_proj.weight', expected: [6, 4], actual: [7, 4] }]);
      expect(w.message).toMatch(/config says \[6,4\]/);
      expect(w.code).toBe('weights-mismatch');
    }
  });
});

describe('sharded checkpoints', () => {
  const s1 = writeSafetensors({ a: { dtype: 'F32', shape: [1], data: new Float32Array([1]) } });
  const s2 = writeSafetensors({ b: { dtype: 'F32', shape: [2], data: new Float32Array([2, 3]) } });
  const files: Record<string, Uint8Array> = { 'model-00001-of-00002.safetensors': s1, 'model-00002-of-00002.safetensors': s2 };
  const open = async (f: string) => sourceFromBytes(files[f]);
  it('reads tensors across shards', async () => {
    const ck = await ShardedCheckpoint.open(
      { metadata: { total_size: 12 }, weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' } },
      open,
    );
    expect([...ck.tensors.keys()].sort()).toEqual(['a', 'b']);
    expect([...(await ck.readF32('b'))]).toEqual([2, 3]);
  });
  it('refuses an index that misplaces a tensor, and path tricks', async () => {
    await expect(
      ShardedCheckpoint.open({ weight_map: { a: 'model-00002-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' } }, open),
    ).rejects.toThrow(/places "a"/);
    await expect(ShardedCheckpoint.open({ weight_map: { a: '../x.safetensors' } }, open)).rejects.toThrow(SafetensorsError);
    await expect(ShardedCheckpoint.open({}, open)).rejects.toThrow(/weight_map/);
  });
});
