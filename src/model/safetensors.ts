/**
 * safetensors: a defensive header parser, lazy per-tensor reads, sharded checkpoints and a writer.
 *
 * Format: u64 LE header length N, then N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]},
 * "__metadata__"?: {string: string}}, then the data; offsets are relative to the end of the header.
 * A 1 GB checkpoint is never copied whole into JS: sources read one tensor's byte range at a time
 * (Blob.slice in the browser and for cached files in Node via fs.openAsBlob).
 */
import { SafetensorsError, WeightsMismatchError } from './errors';
import { expectedTensors, type ModelSpec } from './spec';

export type Dtype = 'F32' | 'F16' | 'BF16';
const DTYPE_BYTES: Record<Dtype, number> = { F32: 4, F16: 2, BF16: 2 };
const KNOWN_OTHER_DTYPES = ['F64', 'I64', 'I32', 'I16', 'I8', 'U8', 'U16', 'U32', 'U64', 'BOOL', 'F8_E4M3', 'F8_E5M2'];
/** The reference implementation refuses headers over 100 MB; so do we (a corrupt length would otherwise allocate GBs). */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Absolute byte range in the file. */
  begin: number;
  end: number;
}

/** Random access to a file's bytes. */
export interface ByteSource {
  readonly size: number;
  read(begin: number, end: number): Promise<Uint8Array>;
}

export function sourceFromBlob(blob: Blob): ByteSource {
  return {
    size: blob.size,
    read: async (b, e) => new Uint8Array(await blob.slice(b, e).arrayBuffer()),
  };
}

export function sourceFromBytes(bytes: ArrayBuffer | Uint8Array): ByteSource {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  // slice() copies, so the caller gets an aligned buffer of its own.
  return { size: u8.byteLength, read: async (b, e) => u8.slice(b, e) };
}

/** Parse the header of a safetensors file of `fileSize` bytes from its first bytes (≥ 8 + header length). */
export function parseHeader(prefix: Uint8Array, fileSize: number, file = 'model.safetensors'): { tensors: Map<string, TensorInfo>; metadata: Record<string, string> } {
  if (fileSize < 8 || prefix.byteLength < 8)
    throw new SafetensorsError('truncated', file, `the file has ${fileSize} bytes, fewer than the 8-byte header length`);
  const dv = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (n > MAX_HEADER_BYTES)
    throw new SafetensorsError('not-safetensors', file, `the header length field says ${n} bytes (over the ${MAX_HEADER_BYTES}-byte limit); this is not a safetensors file`);
  if (n < 2) throw new SafetensorsError('not-safetensors', file, `the header length field says ${n} bytes`);
  if (8 + n > fileSize)
    throw new SafetensorsError(fileSize < 8 + n && n < 1e7 ? 'truncated' : 'not-safetensors', file, `the header needs ${n} bytes but the file has only ${fileSize - 8} after the length field`);
  if (prefix.byteLength < 8 + n) throw new Error('parseHeader: prefix too short (caller bug)');
  const raw = prefix.subarray(8, 8 + n);
  if (raw[0] !== 0x7b) throw new SafetensorsError('not-safetensors', file, 'the header does not start with "{"');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch (e) {
    throw new SafetensorsError('not-safetensors', file, `the header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new SafetensorsError('bad-header', file, 'the header is not a JSON object');
  const dataStart = 8 + n;
  const dataSize = fileSize - dataStart;
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string'))
        throw new SafetensorsError('bad-header', file, '__metadata__ must map strings to strings');
      metadata = v as Record<string, string>;
      continue;
    }
    const bad = (why: string) => new SafetensorsError('bad-header', file, `tensor "${name}": ${why}`);
    if (typeof v !== 'object' || v === null) throw bad('entry is not an object');
    const { dtype, shape, data_offsets: off } = v as Record<string, unknown>;
    if (typeof dtype !== 'string') throw bad('dtype missing');
    if (!(dtype in DTYPE_BYTES))
      throw new SafetensorsError(
        'unsupported-dtype',
        file,
        `tensor "${name}" has dtype ${dtype}${KNOWN_OTHER_DTYPES.includes(dtype) ? '' : ' (unknown)'}; only F32, F16 and BF16 are read`,
      );
    if (!Array.isArray(shape) || shape.some((x) => typeof x !== 'number' || !Number.isInteger(x) || x < 0))
      throw bad('shape must be a list of non-negative integers');
    if (!Array.isArray(off) || off.length !== 2 || off.some((x) => typeof x !== 'number' || !Number.isInteger(x) || x < 0))
      throw bad('data_offsets must be [begin, end]');
    const [b, e] = off as [number, number];
    if (e < b) throw bad(`data_offsets [${b}, ${e}] end before they begin`);
    const want = (shape as number[]).reduce((a, x) => a * x, 1) * DTYPE_BYTES[dtype as Dtype];
    if (e - b !== want)
      throw bad(`shape [${shape}] of ${dtype} needs ${want} bytes but data_offsets span ${e - b} (the header lies about sizes)`);
    if (e > dataSize)
      throw new SafetensorsError(
        'truncated',
        file,
        `tensor "${name}" ends at byte ${e} of the data but the file holds only ${dataSize} data bytes`,
      );
    tensors.set(name, { name, dtype: dtype as Dtype, shape: shape as number[], begin: dataStart + b, end: dataStart + e });
  }
  const sorted = [...tensors.values()].filter((t) => t.end > t.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++)
    if (sorted[i].begin < sorted[i - 1].end)
      throw new SafetensorsError('bad-header', file, `tensors "${sorted[i - 1].name}" and "${sorted[i].name}" overlap`);
  return { tensors, metadata };
}

/** Anything that holds named tensors and reads them one at a time. */
export interface TensorReader {
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  /** The tensor's raw little-endian bytes (a fresh, aligned buffer). */
  readRaw(name: string): Promise<Uint8Array>;
  /** The tensor converted to f32. */
  readF32(name: string): Promise<Float32Array>;
}

export class SafetensorsFile implements TensorReader {
  private constructor(
    readonly file: string,
    private readonly src: ByteSource,
    readonly tensors: ReadonlyMap<string, TensorInfo>,
    readonly metadata: Record<string, string>,
  ) {}

  static async open(src: ByteSource, file = 'model.safetensors'): Promise<SafetensorsFile> {
    if (src.size < 8) throw new SafetensorsError('truncated', file, `the file has ${src.size} bytes, fewer than the 8-byte header length`);
    const head = await src.read(0, 8);
    const n = Number(new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true));
    // Let parseHeader judge the length before reading that many bytes.
    if (n > MAX_HEADER_BYTES || 8 + n > src.size || n < 2) parseHeader(head, src.size, file);
    const prefix = await src.read(0, 8 + n);
    const { tensors, metadata } = parseHeader(prefix, src.size, file);
    return new SafetensorsFile(file, src, tensors, metadata);
  }

  private info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new SafetensorsError('bad-header', this.file, `no tensor named "${name}"`);
    return t;
  }

  async readRaw(name: string): Promise<Uint8Array> {
    const t = this.info(name);
    const bytes = await this.src.read(t.begin, t.end);
    if (bytes.byteLength !== t.end - t.begin)
      throw new SafetensorsError('truncated', this.file, `tensor "${name}": read ${bytes.byteLength} of ${t.end - t.begin} bytes`);
    return bytes;
  }

  async readF32(name: string): Promise<Float32Array> {
    return toF32(this.info(name).dtype, await this.readRaw(name));
  }
}

/** Convert little-endian F32/F16/BF16 bytes to f32. */
export function toF32(dtype: Dtype, bytes: Uint8Array): Float32Array {
  if (dtype === 'F32') {
    if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    return new Float32Array(bytes.slice().buffer);
  }
  const n = bytes.byteLength / 2;
  const out = new Float32Array(n);
  if (dtype === 'BF16') {
    const u32 = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u32[i] = (bytes[2 * i] | (bytes[2 * i + 1] << 8)) << 16;
  } else {
    for (let i = 0; i < n; i++) out[i] = f16ToF32(bytes[2 * i] | (bytes[2 * i + 1] << 8));
  }
  return out;
}

export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** model.safetensors.index.json: {"metadata": {...}, "weight_map": {tensor: shard file}}. Returns the shard files. */
export function parseIndex(json: unknown, file = 'model.safetensors.index.json'): { weightMap: Record<string, string>; shards: string[] } {
  const wm = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof wm !== 'object' || wm === null || Array.isArray(wm) || Object.values(wm).some((x) => typeof x !== 'string'))
    throw new SafetensorsError('bad-header', file, 'it has no "weight_map" of tensor name → shard file');
  const shards = [...new Set(Object.values(wm as Record<string, string>))];
  for (const s of shards)
    if (!/^[\w.-]+\.safetensors$/.test(s)) throw new SafetensorsError('bad-header', file, `shard name "${s}" is not a plain .safetensors file name`);
  return { weightMap: wm as Record<string, string>, shards };
}

/** Several shards seen as one checkpoint. */
export class ShardedCheckpoint implements TensorReader {
  readonly tensors = new Map<string, TensorInfo>();
  private readonly owner = new Map<string, SafetensorsFile>();

  private constructor(readonly shards: SafetensorsFile[]) {
    for (const s of shards)
      for (const [name, t] of s.tensors) {
        if (this.owner.has(name))
          throw new SafetensorsError('bad-header', s.file, `tensor "${name}" also appears in ${this.owner.get(name)!.file}`);
        this.tensors.set(name, t);
        this.owner.set(name, s);
      }
  }

  /** Open every shard named in the index; checks that each tensor lives where the index says. */
  static async open(indexJson: unknown, openShard: (file: string) => Promise<ByteSource>): Promise<ShardedCheckpoint> {
    const { weightMap, shards } = parseIndex(indexJson);
    const files = await Promise.all(shards.map(async (f) => SafetensorsFile.open(await openShard(f), f)));
    const ck = new ShardedCheckpoint(files);
    for (const [name, f] of Object.entries(weightMap)) {
      const at = ck.owner.get(name)?.file;
      if (at !== f)
        throw new SafetensorsError('bad-header', 'model.safetensors.index.json', `it places "${name}" in ${f} but ${at ? `it is in ${at}` : 'no shard holds it'}`);
    }
    return ck;
  }

  readRaw(name: string): Promise<Uint8Array> {
    const s = this.owner.get(name);
    if (!s) throw new SafetensorsError('bad-header', 'model.safetensors.index.json', `no tensor named "${name}"`);
    return s.readRaw(name);
  }

  readF32(name: string): Promise<Float32Array> {
    const s = this.owner.get(name);
    if (!s) throw new SafetensorsError('bad-header', 'model.safetensors.index.json', `no tensor named "${name}"`);
    return s.readF32(name);
  }
}

/**
 * Check names and shapes against what `spec` needs; lists every problem at once. Checkpoints of tied models
 * sometimes still carry lm_head.weight (a copy of the embedding): that one is tolerated when its shape fits.
 */
export function checkTensors(tensors: ReadonlyMap<string, { shape: readonly number[] }>, spec: ModelSpec): void {
  const want = expectedTensors(spec);
  const missing: string[] = [];
  const unexpected: string[] = [];
  const misshapen: { name: string; expected: number[]; actual: number[] }[] = [];
  for (const [name, shape] of want) {
    const t = tensors.get(name);
    if (!t) missing.push(name);
    else if (t.shape.length !== shape.length || t.shape.some((x, i) => x !== shape[i])) misshapen.push({ name, expected: shape, actual: [...t.shape] });
  }
  for (const [name, t] of tensors) {
    if (want.has(name)) continue;
    if (name === 'lm_head.weight' && spec.tieWordEmbeddings) {
      const shape = [spec.vocabSize, spec.hiddenSize];
      if (t.shape.length !== 2 || t.shape[0] !== shape[0] || t.shape[1] !== shape[1]) misshapen.push({ name, expected: shape, actual: [...t.shape] });
      continue;
    }
    // Non-persistent buffers some old exports carry; they hold nothing the model needs.
    if (/\.rotary_emb\.inv_freq$/.test(name)) continue;
    unexpected.push(name);
  }
  if (missing.length || unexpected.length || misshapen.length) throw new WeightsMismatchError(missing, unexpected, misshapen);
}

export interface TensorToWrite {
  dtype: Dtype;
  shape: readonly number[];
  /** Float32Array for F32; Uint16Array (raw bits) or Uint8Array for F16/BF16. */
  data: Float32Array | Uint16Array | Uint8Array;
}

/** Serialise tensors (in the given order) into safetensors bytes; the header is space-padded to 8 bytes. */
export function writeSafetensors(tensors: Record<string, TensorToWrite> | Map<string, TensorToWrite>, metadata?: Record<string, string>): Uint8Array<ArrayBuffer> {
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let off = 0;
  for (const [name, t] of entries) {
    const n = t.shape.reduce((a, x) => a * x, 1) * DTYPE_BYTES[t.dtype];
    if (t.data.byteLength !== n) throw new Error(`writeSafetensors: "${name}" has ${t.data.byteLength} bytes, shape [${t.shape}] ${t.dtype} needs ${n}`);
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [off, off + n] };
    off += n;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (json.byteLength % 8)) % 8;
  if (pad) json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(pad));
  const out = new Uint8Array(8 + json.byteLength + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  let p = 8 + json.byteLength;
  for (const [, t] of entries) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), p);
    p += t.data.byteLength;
  }
  return out;
}
