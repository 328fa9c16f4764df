/**
 * Typed engine errors. Each carries a `code` a program can switch on and an `advice` a student can act on;
 * the base is the one in src/util/errors.ts, so they cross the Worker boundary as `toErrorInfo` plain objects.
 */
import { AdvisedError } from '../util/errors';

/** An error of the GPU, the engine or a model (src/model's errors extend it too). */
export class EngineError extends AdvisedError {}

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
