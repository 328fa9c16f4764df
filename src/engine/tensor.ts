/**
 * What both backends share: tensors (a buffer with a shape), and the prepared operations a runtime runs.
 * A WebGPU op is a compute dispatch (pipeline, bind group, grid); a CPU op is a function over typed-array
 * views made when it was prepared; a copy moves bytes between tensors on either backend.
 */
export type DType = 'f32' | 'f16' | 'u32' | 'i32';
export const DTYPE_BYTES: Record<DType, number> = { f32: 4, f16: 2, u32: 4, i32: 4 };

/**
 * The CPU backend's memory: one ArrayBuffer per allocation (views share it, as GPU views share a buffer); a
 * SharedArrayBuffer when the backend runs several threads.
 */
export interface HostBuffer {
  readonly host: true;
  readonly label: string;
  readonly data: ArrayBuffer | SharedArrayBuffer;
  readonly size: number;
}

/** A buffer with a shape. Row-major; the last dimension is contiguous. */
export interface Tensor {
  readonly buffer: GPUBuffer | HostBuffer;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly label: string;
  /** Bytes this tensor spans (≥ the elements' bytes: padded to 4-byte multiples). */
  readonly bytes: number;
  /** Byte offset into `buffer` (views into packed buffers; on WebGPU a multiple of minStorageBufferOffsetAlignment). */
  readonly offset?: number;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

interface OpCost {
  readonly label: string;
  /** Floating-point operations of one run (for the counters). */
  readonly flops: number;
  /** Estimated bytes read and written in device memory by one run. */
  readonly bytes: number;
}

/**
 * A dispatch prepared once (pipeline, bind group, uniforms) and encoded any number of times.
 * Preparing allocates; encoding never does — so a step that only encodes prepared ops allocates nothing.
 */
export interface GpuOp extends OpCost {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly workgroups: readonly [number, number, number];
}

/** The CPU backend's op: its typed-array views are made when it is prepared, so running it allocates nothing. */
export interface CpuOp extends OpCost {
  readonly run: () => void;
}

/** Bytes from one tensor into another (both backends; on WebGPU it sits between compute passes). */
export interface CopyOp extends OpCost {
  readonly copy: { src: Tensor; srcByte: number; dst: Tensor; dstByte: number; bytes: number };
}

export type Op = GpuOp | CpuOp | CopyOp;

/** Which backend ran, in words: what manifests and the UI show (both runtimes answer `summary()`). */
export interface BackendSummary {
  backend: 'webgpu' | 'cpu';
  vendor: string;
  architecture: string;
  description: string;
  /** A software or fallback adapter (SwiftShader): correct, slow. */
  fallback: boolean;
  shaderF16: boolean;
}

/** The typed array of a dtype over bytes (f16 as its raw Uint16 bits). */
export function typedArrayOf(dtype: DType, bytes: ArrayBuffer): Float32Array | Uint32Array | Int32Array | Uint16Array {
  switch (dtype) {
    case 'f32':
      return new Float32Array(bytes);
    case 'u32':
      return new Uint32Array(bytes);
    case 'i32':
      return new Int32Array(bytes);
    case 'f16':
      return new Uint16Array(bytes);
  }
}

/** A tensor's read-back as f32: both runtimes' readF32, which refuses another dtype. */
export function asF32(t: Tensor, data: Float32Array | Uint32Array | Int32Array | Uint16Array): Float32Array {
  if (!(data instanceof Float32Array)) throw new Error(`readF32: ${t.label} is ${t.dtype}`);
  return data;
}

/** The dtype an upload's array implies when none is given. */
export function dtypeOfArray(data: Float32Array | Uint32Array | Int32Array | Uint16Array): DType {
  return data instanceof Float32Array ? 'f32' : data instanceof Int32Array ? 'i32' : data instanceof Uint16Array ? 'f16' : 'u32';
}

/** The dtype an upload of `data` as `shape` makes (`dtype`, else the array's own), checked against its size. */
export function uploadDType(label: string, data: Float32Array | Uint32Array | Int32Array | Uint16Array, shape: readonly number[], dtype?: DType): DType {
  const dt: DType = dtype ?? dtypeOfArray(data);
  if (numel(shape) * DTYPE_BYTES[dt] !== data.byteLength) {
    throw new Error(`upload ${label}: shape [${shape}] (${dt}) does not match ${data.byteLength} bytes`);
  }
  return dt;
}

export const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);

/** Round an element count up so that the next view starts on a 256-byte boundary. */
export const alignElems = (n: number, dtype: DType = 'f32'): number => {
  const per = 256 / DTYPE_BYTES[dtype];
  return Math.ceil(n / per) * per;
};

/** A copy of `bytes` bytes from `src` (at byte `srcByte`) to `dst` (at byte `dstByte`). */
export function copyOp(src: Tensor, srcByte: number, dst: Tensor, dstByte: number, bytes: number, label = `copy ${src.label} → ${dst.label}`): CopyOp {
  if (srcByte + bytes > src.bytes || dstByte + bytes > dst.bytes) throw new Error(`${label}: ${bytes} bytes pass the end of a tensor`);
  return { label, flops: 0, bytes: 2 * bytes, copy: { src, srcByte, dst, dstByte, bytes } };
}
