import { ceilDiv, type GpuRuntime, type Op, type Runtime, type Tensor } from '../../runtime';
import { gemvFusedCpu, matmulCpu } from './matmul.cpu';
import { bindAt } from '../grid';
import { wgsl } from '../wgsl';
import type { SubgroupMatrixChoice } from '../../features';
import type { MatmulArgs, GemvFusedArgs } from './matmul.types';

export type { MatmulArgs, LoraEpilogue, GemvPart, GemvPrologue, GemvFusedArgs } from './matmul.types';

const noDropout = new WeakMap<GpuRuntime, Tensor>();
/** A zero [seed, step] buffer to bind where the dx epilogue has no dropout (never read then: threshold 0). */
function noDropoutState(rt: GpuRuntime): Tensor {
  let t = noDropout.get(rt);
  if (!t) noDropout.set(rt, (t = rt.tensor('no-dropout state', [4], 'u32')));
  return t;
}

/**
 * The ladder, slowest first, each version's whole shader: its file includes the shared prelude (dropout
 * hash, uniforms, bias, C, LoRA terms, store: matmul_common.wgsl) and, for vec4 and f16w, the half they
 * share (tiles, inner product, entry points: matmul_block4.wgsl). `f16w` takes a packed-f16 B; `gemv` (few
 * rows of A) takes either.
 */
export const MATMUL_VERSIONS = {
  naive: wgsl('kernels/matmul/matmul_naive.wgsl'),
  tiled: wgsl('kernels/matmul/matmul_tiled.wgsl'),
  vec4: wgsl('kernels/matmul/matmul_vec4.wgsl'),
  f16w: wgsl('kernels/matmul/matmul_f16w.wgsl', { TILE: 'f32' }),
  gemv: wgsl('kernels/matmul/matmul_gemv.wgsl'),
} as const;
/**
 * f16h: f16w's tiles and products in f16 (accumulated in f32), for devices with shader-f16; not in
 * MATMUL_VERSIONS because it compiles only there.
 */
export const F16H_SHADER = 'enable f16;\n' + wgsl('kernels/matmul/matmul_f16w.wgsl', { TILE: 'f16' });
const sgmat = wgsl('kernels/matmul/matmul_sgmat.wgsl');
/** `sgmat` (tensor cores) is compiled per adapter, for its subgroup-matrix shape: see sgmatShader; f16h needs shader-f16. */
export type MatmulVersion = keyof typeof MATMUL_VERSIONS | 'sgmat' | 'f16h';

/**
 * The sgmat version for one subgroup-matrix shape: its directives must open the module, before the prelude;
 * the matrix dimensions must be const-expressions, so they are written into the text.
 */
export function sgmatShader(c: SubgroupMatrixChoice): string {
  const head = 'enable f16;\nenable subgroups;\nenable chromium_experimental_subgroup_matrix;\n' +
    // Offsets are workgroup-uniform here, but Tint's analysis of subgroup-matrix calls is stricter than that.
    'diagnostic(off, chromium.subgroup_matrix_uniformity);\n';
  let code = sgmat;
  if (c.syntax === 'template') {
    code = code
      .replace(/subgroupMatrixLoad<(subgroup_matrix_\w+<[^>]+>)>\((&\w+), ([^,]+), false, ([^)]+)\)/g, 'subgroupMatrixLoad<$1, row_major>($2, $3, $4)')
      .replace(/subgroupMatrixStore\((&\w+), ([^,]+), (\w+), false, (\w+)\)/g, 'subgroupMatrixStore<row_major>($1, $2, $3, $4)');
  }
  const body = code.replace(/\bSG_M\b/g, `${c.M}u`).replace(/\bSG_N\b/g, `${c.N}u`).replace(/\bSG_K\b/g, `${c.K}u`).replace(/\bSG_LANES\b/g, `${c.lanes}u`);
  return head + body;
}

/** Output tile of each version, [columns, rows] (the workgroup grid divides N and M by it); sgmat's is 2N × 2M. */
const TILE: Record<Exclude<MatmulVersion, 'sgmat'>, readonly [number, number]> = { naive: [16, 16], tiled: [16, 16], vec4: [64, 64], f16w: [64, 64], f16h: [64, 64], gemv: [8, 4] };

/** Rows of A up to which the gemv version beats a 64×64 tile (it reads the weight once per 4 rows). */
export const GEMV_MAX_ROWS = 16;

/**
 * gemv takes A·Bᵀ with B a weight [N, K] (f32 or packed f16), one slice, no LoRA dX term, K a multiple of
 * 8 (f16) or 4 (f32) and 16-byte aligned operands (it loads 16 bytes at a time).
 */
export function gemvEligible(args: MatmulArgs): boolean {
  const { K, transA = false, transB = true, batch = 1 } = args;
  const aligned = (t: Tensor) => (t.offset ?? 0) % 16 === 0;
  const kOk = args.b.dtype === 'f16' ? K % 8 === 0 : K % 4 === 0;
  return !transA && transB && batch === 1 && args.lora?.kind !== 'dx' && kOk && aligned(args.a) && aligned(args.b) && (args.b.dtype === 'f16' || args.b.dtype === 'f32');
}

/** vec4 loads need each operand's contiguous dimension to be a multiple of 4 (and 16-byte aligned views). */
export function vec4Eligible(args: MatmulArgs): boolean {
  const { M, N, K, transA = false, transB = true } = args;
  const contA = transA ? M : K;
  const contB = transB ? K : N;
  const aligned = (t: Tensor) => (t.offset ?? 0) % 16 === 0;
  return contA % 4 === 0 && contB % 4 === 0 && aligned(args.a) && aligned(args.b) && args.b.dtype === 'f32';
}

/**
 * sgmat takes any transposition, batch and shape (it stages bounds-checked tiles), with an f32 or packed-f16
 * B, but no LoRA epilogue. Chosen automatically only for packed-f16 weights (the frozen projections, forward
 * and dX): there f16 operands lose only the activations' low bits; f32 LoRA factors and gradients keep f32.
 */
export function sgmatEligible(args: MatmulArgs): boolean {
  return !args.lora && (args.b.dtype === 'f16' || args.b.dtype === 'f32');
}

/**
 * Where the f16-operand versions (sgmat, f16h) are chosen by themselves: packed-f16 weights in forward
 * products x·Wᵀ (activations are O(1) there). The backward's dX = dY·W (transB false) keeps f32 operands:
 * gradients would underflow f16 without loss scaling.
 */
const f16Operands = (args: MatmulArgs) => args.b.dtype === 'f16' && (args.transB ?? true) && !(args.transA ?? false);

/** What the device offers the matmul beyond core WebGPU (EngineDevice's fields). */
export interface MatmulCaps {
  subgroupMatrix?: SubgroupMatrixChoice | null;
  f16?: boolean;
}

/**
 * The version prepareMatmul uses when none is asked for. `sgmat`: the device's subgroup-matrix shape
 * (EngineDevice.subgroupMatrix), when it has tensor cores.
 */
export function bestMatmulVersion(args: MatmulArgs, caps: MatmulCaps = {}): MatmulVersion {
  // Decode steps and few-row heads: bound by reading the weight, which gemv does at full bandwidth.
  if (args.M <= GEMV_MAX_ROWS && gemvEligible(args)) return 'gemv';
  const sgmat = caps.subgroupMatrix;
  if (sgmat && f16Operands(args) && sgmatEligible(args) && args.M >= 2 * sgmat.M && args.N >= 2 * sgmat.N) return 'sgmat';
  if (caps.f16 && f16Operands(args) && args.lora?.kind !== 'dx') return 'f16h';
  if (args.b.dtype === 'f16') return 'f16w';
  // A 64×64 tile wastes most of its work on skinny products (decode steps, rank-r LoRA factors).
  if (args.M >= 32 && args.N >= 32 && vec4Eligible(args)) return 'vec4';
  return 'tiled';
}

/**
 * Prepare C = alpha·op(A)·op(B) (+bias) (+C). Allocates its uniforms and bind group once.
 * `version` defaults to the best one for the shape; an explicit version that cannot take the shape
 * (vec4 on non-multiples of 4) falls back to tiled; a packed-f16 B always uses f16w.
 */
export function prepareMatmul(rt: Runtime, args: MatmulArgs, version?: MatmulVersion): Op {
  const { M, N, K, transA = false, transB = true, alpha = 1, bias, accumulate = false, batch = 1, residual } = args;
  if (bias && residual) throw new Error('matmul: a bias and a residual share one binding; pass one of them');
  if (args.lora && batch !== 1) throw new Error('matmul: the fused LoRA epilogue takes batch 1');
  const flops = 2 * batch * M * N * K + (bias || residual ? batch * M * N : 0) +
    (args.lora ? (2 * args.lora.rank + 1) * M * N + (args.lora.kind === 'dx' && args.lora.dropout ? 10 * M * N : 0) : 0);
  const bBytes = args.b.dtype === 'f16' ? 2 : 4;
  const bytes = batch * (4 * M * K + bBytes * K * N + 4 * M * N * (1 + Number(accumulate) + Number(Boolean(residual)))) + (bias ? 4 * N : 0) +
    (args.lora ? 4 * (M + N) * args.lora.rank : 0);
  if (rt.kind === 'cpu') return rt.op(`matmul_cpu${args.lora ? `+lora_${args.lora.kind}` : ''} ${M}x${N}x${K}`, flops, bytes, matmulCpu(rt, args));
  const sg = rt.engine.subgroupMatrix ?? null;
  let v: MatmulVersion = version ?? bestMatmulVersion(args, { subgroupMatrix: sg, f16: rt.engine.f16 });
  // sgmat where the device has no tensor cores (or for a LoRA epilogue), f16h without shader-f16 or
  // B not packed f16: the best of the rest.
  if (v === 'sgmat' && !(sg && sgmatEligible(args))) v = bestMatmulVersion(args);
  if (v === 'f16h' && !(rt.engine.f16 && args.b.dtype === 'f16')) v = bestMatmulVersion(args);
  if (v === 'gemv' && !gemvEligible(args)) v = args.b.dtype === 'f16' ? 'f16w' : 'tiled';
  if (args.b.dtype === 'f16' && v !== 'gemv' && v !== 'sgmat' && v !== 'f16h') v = 'f16w';
  else if (v === 'f16w' && args.b.dtype !== 'f16') throw new Error(`matmul f16w: b (${args.b.label}) must be a packed-f16 tensor`);
  if (v === 'vec4' && !vec4Eligible(args)) v = 'tiled';
  const lora = args.lora;
  if (lora && v === 'naive') v = 'tiled';
  const shape = v === 'sgmat' ? `${sg!.M}x${sg!.N}x${sg!.K}${sg!.syntax === 'template' ? 't' : ''}` : '';
  const label = `matmul_${v}${shape}${lora ? `+lora_${lora.kind}` : ''} ${M}x${N}x${K}`;
  const flags = { TRANS_A: Number(transA), TRANS_B: Number(transB), HAS_BIAS: Number(Boolean(bias)), ACCUMULATE: Number(accumulate), RESIDUAL: Number(Boolean(residual)) };
  const pipeline = rt.pipeline(
    label,
    v === 'sgmat' ? sgmatShader(sg!) : v === 'f16h' ? F16H_SHADER : MATMUL_VERSIONS[v],
    v === 'gemv'
      ? { F16: Number(args.b.dtype === 'f16'), HAS_BIAS: Number(Boolean(bias)), ACCUMULATE: Number(accumulate), RESIDUAL: Number(Boolean(residual)) }
      : v === 'sgmat' ? { ...flags, F16B: Number(args.b.dtype === 'f16') } : flags,
    !lora ? 'main' : lora.kind === 'up' ? 'main_lora' : 'main_lora_dx',
  );
  const drop = lora?.kind === 'dx' ? lora.dropout : undefined;
  const params = rt.uniform(
    `${label} params`,
    [M, N, K, alpha, M * K, K * N, M * N, 0, lora?.rank ?? 0, lora?.kind === 'up' ? lora.scale : 0, 0, 0, drop?.salt ?? 0, drop?.threshold ?? 0, drop?.keepScale ?? 1, 0, ...NO_FUSED],
    PARAM_KINDS,
  );
  const resources = [params, args.a, args.b, bias ?? residual ?? rt.empty, args.out];
  if (lora?.kind === 'up') resources.push(lora.u, lora.loraB);
  if (lora?.kind === 'dx') resources.push(lora.g, lora.loraA, drop?.state ?? noDropoutState(rt));
  const bindGroup = rt.bindGroup(pipeline, resources, label);
  return {
    label,
    pipeline,
    bindGroup,
    workgroups: v === 'sgmat' ? [ceilDiv(N, 2 * sg!.N), ceilDiv(M, 2 * sg!.M), batch] : [ceilDiv(N, TILE[v][0]), ceilDiv(M, TILE[v][1]), batch],
    flops,
    bytes,
  };
}

/** The fused-gemv words of the matmul uniform (after the 16 every version reads), zero for the others. */
const NO_FUSED = new Array<number>(20).fill(0);
const PARAM_KINDS = 'uuufuuuuufuuuufu' + 'fuuu' + 'u'.repeat(16);

export function prepareGemvFused(rt: Runtime, args: GemvFusedArgs): Op {
  const { a, b, outs, M, K, parts, bias, accumulate = false, alpha = 1, prologue } = args;
  const f16 = b.dtype === 'f16';
  const per = f16 ? 8 : 4; // elements per 16-byte word of B
  if (parts.length < 1 || parts.length > 3) throw new Error('gemv fused: 1 to 3 parts');
  if (outs.length !== 1 && outs.length !== parts.length) throw new Error('gemv fused: one output, or one per part');
  if (K % per !== 0) throw new Error(`gemv fused: K = ${K} must be a multiple of ${per}`);
  if (b.dtype !== 'f16' && b.dtype !== 'f32') throw new Error(`gemv fused: b (${b.label}) must be f32 or packed f16`);
  for (const t of [a, b]) if ((t.offset ?? 0) % 16 !== 0) throw new Error(`gemv fused: ${t.label} must be 16-byte aligned`);
  const colEnd: number[] = [];
  let N = 0;
  for (const part of parts) {
    if (part.wStart % per !== 0) throw new Error(`gemv fused: part weights must start 16-byte aligned (wStart ${part.wStart})`);
    colEnd.push((N += part.cols));
  }
  while (colEnd.length < 4) colEnd.push(N);
  const upOffset = prologue?.kind === 'swiglu' ? prologue.upOffset : 0;
  if (upOffset % 4 !== 0) throw new Error('gemv fused: the up block must start at a multiple of 4 elements');
  const three = outs.length === 3;
  const aBytes = 4 * M * K * (prologue?.kind === 'swiglu' ? 2 : 1);
  const flops = 2 * M * N * K + (bias ? M * N : 0) + (prologue ? (prologue.kind === 'rmsnorm' ? 3 : 6) * M * K : 0);
  const bytes = aBytes + (f16 ? 2 : 4) * N * K + 4 * M * N * (accumulate ? 2 : 1) + (bias ? 4 * N : 0) + (prologue?.kind === 'rmsnorm' ? 4 * K : 0);
  if (rt.kind === 'cpu') return rt.op(`gemv_fused_cpu${prologue ? `+${prologue.kind}` : ''} ${M}x${N}x${K}`, flops, bytes, gemvFusedCpu(rt, args));
  const label = `matmul_gemv_fused${three ? '3' : ''}${prologue ? `+${prologue.kind}` : ''} ${M}x${N}x${K}`;
  const pipeline = rt.pipeline(
    label,
    MATMUL_VERSIONS.gemv,
    { F16: Number(f16), HAS_BIAS: Number(Boolean(bias)), ACCUMULATE: Number(accumulate), PROLOGUE: prologue ? (prologue.kind === 'rmsnorm' ? 1 : 2) : 0 },
    three ? 'main_fused3' : 'main_fused',
  );
  const pad = (xs: number[]) => [...xs, 0, 0, 0, 0].slice(0, 4);
  const params = rt.uniform(
    `${label} params`,
    [
      M, N, K, alpha, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0,
      prologue?.kind === 'rmsnorm' ? prologue.eps : 0, upOffset / 4, 0, 0,
      ...colEnd, ...pad(parts.map((q) => q.wStart / per)), ...pad(parts.map((q) => q.outStart ?? 0)), ...pad(parts.map((q) => q.biasStart ?? 0)),
    ],
    PARAM_KINDS,
  );
  const entries: [number, GPUBuffer | Tensor][] = [[0, params], [1, a], [2, b], [3, bias ?? rt.empty], [4, outs[0]], [5, prologue?.kind === 'rmsnorm' ? prologue.weight : rt.empty]];
  if (three) entries.push([8, outs[1]], [9, outs[2]]);
  return {
    label,
    pipeline,
    bindGroup: bindAt(rt, pipeline, entries, label),
    workgroups: [ceilDiv(N, TILE.gemv[0]), ceilDiv(M, TILE.gemv[1]), 1],
    flops,
    bytes,
  };
}
