/**
 * Typed engine errors. Each carries a `code` a program can switch on and an `advice` a student can act on.
 * Errors cross the Worker boundary as plain objects (see `toErrorInfo`).
 */
export class EngineError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly advice: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class WebGPUUnavailableError extends EngineError {
  constructor() {
    super(
      'webgpu-unavailable',
      'This browser does not offer WebGPU.',
      'Use Chrome or Edge 113+ on Windows, macOS or ChromeOS; on Linux start Chrome with ' +
        '--enable-unsafe-webgpu --enable-features=Vulkan; Safari 26+ and Firefox 141+ (Windows) also work. ' +
        'Shared results still open without WebGPU.',
    );
  }
}

export class NoAdapterError extends EngineError {
  constructor() {
    super(
      'no-adapter',
      'WebGPU is present but no GPU adapter was granted.',
      'Check that hardware acceleration is on (chrome://settings/system) and that chrome://gpu lists WebGPU as ' +
        'enabled; on Linux add --enable-unsafe-webgpu. Shared results still open without WebGPU.',
    );
  }
}

export class LimitTooLowError extends EngineError {
  constructor(limit: string, needed: number, offered: number) {
    super(
      'limit-too-low',
      `This GPU offers ${limit} = ${offered}, and this work needs ${needed}.`,
      'Choose a smaller model or a shorter sequence, or use a GPU with more memory.',
    );
  }
}

export class DeviceLostError extends EngineError {
  constructor(reason: string, detail: string) {
    super(
      'device-lost',
      `The GPU device was lost (${reason}${detail ? `: ${detail}` : ''}).`,
      'This usually means the GPU ran out of memory or the driver reset. Reload the page, then try a smaller ' +
        'model, a smaller batch or a shorter sequence. Your stored work is safe.',
    );
  }
}

export class OutOfMemoryError extends EngineError {
  constructor(what: string, bytes: number) {
    super(
      'out-of-memory',
      `The GPU could not allocate ${(bytes / 2 ** 20).toFixed(1)} MiB for ${what}.`,
      'Try a smaller batch size, a shorter sequence, or a smaller model; close other GPU-heavy tabs.',
    );
  }
}

export class ShaderError extends EngineError {
  constructor(label: string, detail: string) {
    super('shader', `The GPU rejected the shader "${label}": ${detail}`, 'This is a bug in IFT Lab; please report it.');
  }
}

export class NonFiniteError extends EngineError {
  constructor(what: string, step?: number) {
    super(
      'non-finite',
      `A non-finite value (NaN or ∞) appeared in ${what}${step === undefined ? '' : ` at step ${step}`}.`,
      'Lower the learning rate, enable gradient clipping, or use f32 weights. Checkpoints already stored are kept.',
    );
  }
}

/** A serialisable form for postMessage and logs. */
export interface ErrorInfo {
  name: string;
  code: string;
  message: string;
  advice: string;
}

export function toErrorInfo(e: unknown): ErrorInfo {
  if (e instanceof EngineError) return { name: e.name, code: e.code, message: e.message, advice: e.advice };
  if (e && typeof e === 'object' && 'code' in e && 'advice' in e && 'message' in e) {
    const o = e as { name?: string; code: unknown; message: unknown; advice: unknown };
    return { name: String(o.name ?? 'Error'), code: String(o.code), message: String(o.message), advice: String(o.advice) };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { name: e instanceof Error ? e.name : 'Error', code: 'internal', message, advice: 'This is unexpected; please report it with the message above.' };
}
