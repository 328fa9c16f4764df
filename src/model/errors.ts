/**
 * Typed errors of the model layer (loading and checking Hugging Face models). Each extends the engine's
 * EngineError, so it crosses the Worker boundary with a `code` and a student-actionable `advice`.
 */
import { EngineError } from '../engine/errors';

export const SUPPORTED_ARCHITECTURES =
  'Llama-family decoders: model_type "llama" (SmolLM2, TinyLlama, Llama 3.x) and "qwen2" (Qwen2 / Qwen2.5)';

/** The config describes a model the engine cannot run (another architecture or an unsupported option). */
export class UnsupportedModelError extends EngineError {
  constructor(what: string) {
    super(
      'unsupported-model',
      `This model is not supported: ${what}.`,
      `IFT Lab runs ${SUPPORTED_ARCHITECTURES}. Pick one of the suggested models (e.g. ` +
        'HuggingFaceTB/SmolLM2-135M-Instruct or Qwen/Qwen2.5-0.5B-Instruct).',
    );
  }
}

/** config.json is missing a field, or a field has an impossible value. */
export class InvalidConfigError extends EngineError {
  constructor(what: string) {
    super(
      'invalid-config',
      `The model's config.json is not usable: ${what}.`,
      'Check that the repository is a complete transformers checkpoint (its config.json opens on the Hub), ' +
        'or pick one of the suggested models.',
    );
  }
}

export type SafetensorsProblem = 'not-safetensors' | 'truncated' | 'bad-header' | 'unsupported-dtype';

/** A .safetensors file (or its index) is malformed. `problem` says how. */
export class SafetensorsError extends EngineError {
  constructor(
    readonly problem: SafetensorsProblem,
    file: string,
    detail: string,
  ) {
    super(
      `safetensors-${problem}`,
      `${file}: ${detail}`,
      problem === 'unsupported-dtype'
        ? 'IFT Lab reads F32, F16 and BF16 weights. Choose a non-quantised checkpoint of the model ' +
            '(the original repository rather than a GPTQ/AWQ/int8 one).'
        : problem === 'truncated'
          ? 'The file is incomplete, probably from an interrupted download. Delete the cached model ' +
            '(Models → cached) and download it again.'
          : 'This is not a valid safetensors file. Delete the cached copy and download it again; if it ' +
            'persists, the repository holds a damaged file — choose another model.',
    );
  }
}

/** The weights do not match what config.json promises (missing, unexpected or misshapen tensors). */
export class WeightsMismatchError extends EngineError {
  constructor(
    readonly missing: string[],
    readonly unexpected: string[],
    readonly misshapen: { name: string; expected: number[]; actual: number[] }[],
  ) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing ${missing.length}: ${missing.join(', ')}`);
    if (unexpected.length) parts.push(`unexpected ${unexpected.length}: ${unexpected.join(', ')}`);
    if (misshapen.length)
      parts.push(
        `wrong shape ${misshapen.length}: ` +
          misshapen.map((m) => `${m.name} is [${m.actual}] but config says [${m.expected}]`).join(', '),
      );
    super(
      'weights-mismatch',
      `The weights do not match config.json (${parts.join('; ')}).`,
      'config.json and model.safetensors come from different models or revisions. Download the model ' +
        'again at one revision (delete the cached copy first), or choose another model.',
    );
  }
}

/** A Hub request failed (HTTP status, network error). */
export class DownloadError extends EngineError {
  constructor(
    readonly modelId: string,
    readonly file: string,
    readonly status: number | null,
    detail: string,
  ) {
    super(
      status === 404 ? 'download-not-found' : status === 401 || status === 403 ? 'download-forbidden' : 'download-failed',
      `Could not download ${file} of ${modelId}: ${detail}.`,
      status === 404
        ? `Check the model id "${modelId}" and revision on huggingface.co; the repository must hold ${file}.`
        : status === 401 || status === 403
          ? 'This repository is gated or private. Accept its licence on huggingface.co, or choose an open model.'
          : 'Check your connection and try again; finished files stay cached, so only the rest is fetched.',
    );
  }
}

/** A download ended early or delivered a different number of bytes than announced. Nothing was cached. */
export class TruncatedDownloadError extends EngineError {
  constructor(
    readonly modelId: string,
    readonly file: string,
    received: number,
    expected: number | null,
  ) {
    super(
      'download-truncated',
      `The download of ${file} (${modelId}) stopped after ${received} bytes` +
        (expected === null ? '.' : ` of ${expected}.`),
      'The connection was interrupted; nothing incomplete was stored. Try again (finished files stay cached).',
    );
  }
}

/** The tokenizer and the model disagree (a token id beyond the embedding matrix). */
export class TokenizerMismatchError extends EngineError {
  constructor(detail: string) {
    super(
      'tokenizer-mismatch',
      `The tokenizer does not fit the model: ${detail}.`,
      'tokenizer.json and config.json come from different models. Download the model again, or choose another.',
    );
  }
}

/** A PEFT adapter does not fit this model or is malformed. */
export class AdapterMismatchError extends EngineError {
  constructor(detail: string) {
    super(
      'adapter-mismatch',
      `This LoRA adapter cannot be used here: ${detail}.`,
      'Load the adapter on the base model it was trained on (adapter_config.json names it), and check that ' +
        'adapter_model.safetensors belongs to that adapter_config.json.',
    );
  }
}
