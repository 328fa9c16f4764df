/**
 * The ONNX export of a fixture model, with a KV cache, in transformers.js's decoder I/O:
 *   inputs  input_ids, attention_mask (int64 [b, past+s]), position_ids (int64 [b, s]),
 *           past_key_values.{i}.key|value (f32 [b, kvHeads, past, headDim], kvHeads and headDim fixed)
 *   outputs logits (f32 [b, s, vocab]), present.{i}.key|value (f32 [b, kvHeads, past+s, headDim])
 * Standard ops only (opset 14). It mirrors HF's LlamaForCausalLM / Qwen2ForCausalLM: RMSNorm, rotate-half
 * RoPE (rotate_half as a constant signed permutation matrix), GQA by grouping query heads rather than
 * repeating keys, SwiGLU, causal + padding mask. Node/test-time only (onnx-proto is a dev dependency).
 */
import onnxProto from 'onnx-proto';
import type { ModelSpec } from './spec';

const { onnx } = onnxProto;
type Node = InstanceType<typeof onnx.NodeProto>;
type Tensor = InstanceType<typeof onnx.TensorProto>;

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const A = onnx.AttributeProto.AttributeType;

class Graph {
  nodes: Node[] = [];
  inits: Tensor[] = [];
  private n = 0;

  f32(name: string, dims: number[], data: Float32Array | number[]): string {
    const a = data instanceof Float32Array ? data : Float32Array.from(data);
    this.inits.push(onnx.TensorProto.create({ name, dims, dataType: FLOAT, rawData: new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength)) }));
    return name;
  }

  i64(values: number[], dims: number[] = [values.length]): string {
    const name = `const_i64_${this.n++}`;
    const a = BigInt64Array.from(values.map(BigInt));
    this.inits.push(onnx.TensorProto.create({ name, dims, dataType: INT64, rawData: new Uint8Array(a.buffer) }));
    return name;
  }

  op(type: string, inputs: string[], attrs: Record<string, number | number[]> = {}, nOut = 1): string[] {
    const outs = Array.from({ length: nOut }, () => `${type.toLowerCase()}_${this.n++}`);
    const attribute = Object.entries(attrs).map(([name, v]) =>
      Array.isArray(v)
        ? onnx.AttributeProto.create({ name, type: A.INTS, ints: v })
        : Number.isInteger(v) && name !== 'epsilon'
          ? onnx.AttributeProto.create({ name, type: A.INT, i: v })
          : onnx.AttributeProto.create({ name, type: A.FLOAT, f: v }),
    );
    this.nodes.push(onnx.NodeProto.create({ opType: type, input: inputs, output: outs, attribute, name: outs[0] }));
    return outs;
  }

  /** Single-output op. */
  o(type: string, inputs: string[], attrs: Record<string, number | number[]> = {}): string {
    return this.op(type, inputs, attrs)[0];
  }

  /** Rename an existing value to a graph output name. */
  identity(input: string, name: string): void {
    this.nodes.push(onnx.NodeProto.create({ opType: 'Identity', input: [input], output: [name], name }));
  }
}

/**
 * RoPE inverse frequencies θ^(−2i/d), with Llama 3's "llama3" rescaling when the spec has it (as HF's
 * _compute_llama3_parameters: keep high frequencies, divide low ones by `factor`, blend in between).
 */
export function ropeInvFreq(spec: ModelSpec): Float64Array {
  const dh = spec.headDim;
  const out = new Float64Array(dh / 2);
  for (let i = 0; i < dh / 2; i++) out[i] = 1 / Math.pow(spec.ropeTheta, (2 * i) / dh);
  const sc = spec.ropeScaling;
  if (!sc) return out;
  const lowWavelen = sc.originalMaxPositionEmbeddings / sc.lowFreqFactor;
  const highWavelen = sc.originalMaxPositionEmbeddings / sc.highFreqFactor;
  for (let i = 0; i < out.length; i++) {
    const f = out[i];
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) continue;
    if (wavelen > lowWavelen) out[i] = f / sc.factor;
    else {
      const smooth = (sc.originalMaxPositionEmbeddings / wavelen - sc.lowFreqFactor) / (sc.highFreqFactor - sc.lowFreqFactor);
      out[i] = (1 - smooth) * (f / sc.factor) + smooth * f;
    }
  }
  return out;
}

function transpose2d(w: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c];
  return t;
}

function valueInfo(name: string, elemType: number, dims: (number | string)[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });
}

export function buildOnnxModel(spec: ModelSpec, weights: Map<string, Float32Array>): Uint8Array {
  const { hiddenSize: d, numHeads: h, numKvHeads: kv, headDim: dh, vocabSize: V, intermediateSize: f } = spec;
  const rep = h / kv;
  const g = new Graph();
  const W = (name: string) => {
    const w = weights.get(name);
    if (!w) throw new Error(`buildOnnxModel: missing ${name}`);
    return w;
  };
  /** x [.., in] · Wᵀ (+ b): the initializer holds Wᵀ [in, out]. */
  const linear = (x: string, name: string, out: number, inp: number, bias: boolean) => {
    let y = g.o('MatMul', [x, g.f32(name + '.T', [inp, out], transpose2d(W(name + '.weight'), out, inp))]);
    if (bias) y = g.o('Add', [y, g.f32(name + '.bias', [out], W(name + '.bias'))]);
    return y;
  };
  const eps = g.f32('rms_eps', [], [spec.rmsNormEps]);
  const one = g.f32('one', [], [1]);
  const rms = (x: string, name: string) => {
    const ms = g.o('ReduceMean', [g.o('Mul', [x, x])], { axes: [-1], keepdims: 1 });
    const inv = g.o('Div', [one, g.o('Sqrt', [g.o('Add', [ms, eps])])]);
    return g.o('Mul', [g.o('Mul', [x, inv]), g.f32(name, [d], W(name))]);
  };

  // Lengths: s (new tokens), T (past + s, from the attention mask), past = T − s.
  const s = g.o('Gather', [g.o('Shape', ['input_ids']), g.i64([1], [])], { axis: 0 });
  const T = g.o('Gather', [g.o('Shape', ['attention_mask']), g.i64([1], [])], { axis: 0 });
  const past = g.o('Sub', [T, s]);
  const zero = g.i64([0], []);
  const step = g.i64([1], []);
  // Mask [b, 1, 1, s, T] (broadcast over the grouped heads [b, kv, rep, s, T]): future keys or padding.
  const qpos = g.o('Unsqueeze', [g.o('Add', [g.o('Range', [zero, s, step]), past]), g.i64([1])]); // [s, 1]
  const kpos = g.o('Range', [zero, T, step]); // [T]
  const future = g.o('Less', [qpos, kpos]); // [s, T]
  const pad = g.o('Unsqueeze', [g.o('Equal', ['attention_mask', g.i64([0], [])]), g.i64([1, 2, 3])]); // [b,1,1,1,T]
  const masked = g.o('Or', [future, pad]);
  const negInf = g.f32('mask_value', [], [-1e9]);

  // RoPE tables from position_ids: cos/sin [b, 1, s, dh].
  const invFreq = Float32Array.from(ropeInvFreq(spec));
  const pos = g.o('Unsqueeze', [g.o('Cast', ['position_ids'], { to: FLOAT }), g.i64([2])]); // [b, s, 1]
  const freqs = g.o('Mul', [pos, g.f32('inv_freq', [dh / 2], invFreq)]);
  const emb = g.o('Unsqueeze', [g.o('Concat', [freqs, freqs], { axis: -1 }), g.i64([1])]);
  const cos = g.o('Cos', [emb]);
  const sin = g.o('Sin', [emb]);
  // rotate_half(x) = x · R: out[j] = −x[j + dh/2], out[j + dh/2] = x[j].
  const R = new Float32Array(dh * dh);
  for (let j = 0; j < dh / 2; j++) {
    R[(j + dh / 2) * dh + j] = -1;
    R[j * dh + j + dh / 2] = 1;
  }
  const rotM = g.f32('rotate_half', [dh, dh], R);
  const rope = (x: string) => g.o('Add', [g.o('Mul', [x, cos]), g.o('Mul', [g.o('MatMul', [x, rotM]), sin])]);
  const scale = g.f32('attn_scale', [], [1 / Math.sqrt(dh)]);

  let x = g.o('Gather', [g.f32('model.embed_tokens.weight', [V, d], W('model.embed_tokens.weight')), 'input_ids'], { axis: 0 });
  for (let i = 0; i < spec.numLayers; i++) {
    const p = `model.layers.${i}.`;
    const xn = rms(x, p + 'input_layernorm.weight');
    const heads = (y: string, n: number) => g.o('Transpose', [g.o('Reshape', [y, g.i64([0, 0, n, dh])])], { perm: [0, 2, 1, 3] });
    const q = rope(heads(linear(xn, p + 'self_attn.q_proj', h * dh, d, spec.attentionBias), h)); // [b, h, s, dh]
    const k = rope(heads(linear(xn, p + 'self_attn.k_proj', kv * dh, d, spec.attentionBias), kv)); // [b, kv, s, dh]
    const v = heads(linear(xn, p + 'self_attn.v_proj', kv * dh, d, spec.attentionBias), kv);
    const kAll = g.o('Concat', [`past_key_values.${i}.key`, k], { axis: 2 }); // [b, kv, T, dh]
    const vAll = g.o('Concat', [`past_key_values.${i}.value`, v], { axis: 2 });
    g.identity(kAll, `present.${i}.key`);
    g.identity(vAll, `present.${i}.value`);
    // Query head j uses KV head ⌊j / rep⌋ (HF repeat_kv): group queries as [b, kv, rep, s, dh].
    const qg = g.o('Reshape', [q, g.i64([0, kv, rep, -1, dh])]);
    const kT = g.o('Unsqueeze', [g.o('Transpose', [kAll], { perm: [0, 1, 3, 2] }), g.i64([2])]); // [b, kv, 1, dh, T]
    const scores = g.o('Where', [masked, negInf, g.o('Mul', [g.o('MatMul', [qg, kT]), scale])]);
    const probs = g.o('Softmax', [scores], { axis: -1 });
    const ctx = g.o('MatMul', [probs, g.o('Unsqueeze', [vAll, g.i64([2])])]); // [b, kv, rep, s, dh]
    const merged = g.o('Reshape', [g.o('Transpose', [g.o('Reshape', [ctx, g.i64([0, h, -1, dh])])], { perm: [0, 2, 1, 3] }), g.i64([0, 0, h * dh])]);
    x = g.o('Add', [x, linear(merged, p + 'self_attn.o_proj', d, h * dh, false)]);
    const xn2 = rms(x, p + 'post_attention_layernorm.weight');
    const gate = linear(xn2, p + 'mlp.gate_proj', f, d, false);
    const up = linear(xn2, p + 'mlp.up_proj', f, d, false);
    const act = g.o('Mul', [g.o('Mul', [gate, g.o('Sigmoid', [gate])]), up]);
    x = g.o('Add', [x, linear(act, p + 'mlp.down_proj', d, f, false)]);
  }
  const head = spec.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
  const logits = g.o('MatMul', [rms(x, 'model.norm.weight'), g.f32('lm_head.T', [d, V], transpose2d(W(head), V, d))]);
  g.identity(logits, 'logits');

  const inputs = [
    valueInfo('input_ids', INT64, ['batch_size', 'sequence_length']),
    valueInfo('attention_mask', INT64, ['batch_size', 'total_sequence_length']),
    valueInfo('position_ids', INT64, ['batch_size', 'sequence_length']),
  ];
  const outputs = [valueInfo('logits', FLOAT, ['batch_size', 'sequence_length', V])];
  for (let i = 0; i < spec.numLayers; i++)
    for (const kvName of ['key', 'value']) {
      inputs.push(valueInfo(`past_key_values.${i}.${kvName}`, FLOAT, ['batch_size', kv, 'past_sequence_length', dh]));
      outputs.push(valueInfo(`present.${i}.${kvName}`, FLOAT, ['batch_size', kv, 'total_sequence_length', dh]));
    }
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'ift-lab-fixtures',
    opsetImport: [{ domain: '', version: 14 }],
    graph: { name: 'decoder', node: g.nodes, initializer: g.inits, input: inputs, output: outputs },
  });
  return onnx.ModelProto.encode(model).finish();
}
