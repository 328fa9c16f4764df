/**
 * The Model page's check: the same model through transformers.js on onnxruntime-web (WebGPU provider) —
 * an independent implementation — against our engine, on a few prompts. Loaded lazily (it is large), and
 * only for repositories with an ONNX export (onnx/model.onnx). ONNX Runtime's wasm files come from the
 * app's own origin (`ort/`, copied there by the build), never from a CDN.
 */
import type { EngineModel } from '../model/engine-model';
import { verifyAgainstReference } from '../model/verify';
import type { ModelInfo, VerifyOutcome } from './protocol';

const PROMPTS = ['The capital of France is', 'Instruction fine-tuning teaches a model to', 'Question: What is 2 + 3?\nAnswer:'];

export interface OnnxVerifyOptions {
  /** Read the repository from this URL prefix instead of the Hub (tests serve fixture models this way). */
  localModelPath?: string;
}

export async function verifyWithOnnx(model: EngineModel, info: Pick<ModelInfo, 'id' | 'revision' | 'precision'>, ortBase: string, opts: OnnxVerifyOptions = {}): Promise<VerifyOutcome> {
  const skip = (message: string): VerifyOutcome => ({ ran: false, message, prompts: 0, positions: 0, maxAbsLogitDiff: null, top1Agreement: null });
  const { AutoModelForCausalLM, env, Tensor } = await import('@huggingface/transformers');
  const wasm = env.backends.onnx.wasm;
  if (wasm) wasm.wasmPaths = ortBase;
  env.allowLocalModels = opts.localModelPath !== undefined;
  env.allowRemoteModels = opts.localModelPath === undefined;
  if (opts.localModelPath !== undefined) env.localModelPath = opts.localModelPath;
  let hf: Awaited<ReturnType<typeof AutoModelForCausalLM.from_pretrained>>;
  try {
    hf = await AutoModelForCausalLM.from_pretrained(info.id, { revision: info.revision, dtype: 'fp32', device: 'webgpu' });
  } catch (e) {
    return skip(`No usable ONNX export for ${info.id} (transformers.js needs onnx/model.onnx): ${(e as Error).message}`);
  }
  const i64 = (a: number[]) => new Tensor('int64', BigInt64Array.from(a.map(BigInt)), [1, a.length]);
  const bos = model.tokenizer.bosTokenId === null ? [] : [model.tokenizer.bosTokenId];
  const prompts = PROMPTS.map((p) => [...bos, ...model.tokenizer.encode(p)]);
  try {
    const rep = await verifyAgainstReference(
      model,
      async (ids) => {
        const out: Float32Array[] = [];
        for (const seq of ids) {
          const r = await hf({ input_ids: i64(seq), attention_mask: i64(seq.map(() => 1)) });
          out.push(Float32Array.from(r.logits.data as Float32Array));
        }
        return out;
      },
      prompts,
    );
    const tol = info.precision === 'f16' ? 'f16 weights: differences of a few 0.01 are expected' : 'f32 weights: differences should be below 1e-3';
    return {
      ran: true,
      message: `Compared with transformers.js (onnxruntime-web, WebGPU) on ${prompts.length} prompts (${tol}).`,
      prompts: prompts.length,
      positions: rep.positions,
      maxAbsLogitDiff: rep.maxAbsLogitDiff,
      top1Agreement: rep.top1Agreement,
    };
  } finally {
    await hf.dispose();
  }
}
