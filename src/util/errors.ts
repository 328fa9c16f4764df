/**
 * The one error base of IFT Lab: every error a student can meet carries a `code` a program can switch on, a
 * `message`, and an `advice` they can act on. The engine's and the lab's errors extend it (EngineError,
 * LabError), so `toErrorInfo` carries any of them across the Worker boundary unchanged. It lives in
 * src/util because the lab may not import the engine, and both need it.
 */
export class AdvisedError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly advice: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Work stopped because its caller asked (an AbortSignal, the page's Cancel): the lab, the Worker and the page. */
export class CancelledError extends AdvisedError {
  constructor(what: string) {
    super('cancelled', `${what} was cancelled.`, 'Checkpoints already stored are kept; start it again to resume.');
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
  if (e instanceof AdvisedError) return { name: e.name, code: e.code, message: e.message, advice: e.advice };
  if (e && typeof e === 'object' && 'code' in e && 'advice' in e && 'message' in e) {
    const o = e as { name?: string; code: unknown; message: unknown; advice: unknown };
    return { name: String(o.name ?? 'Error'), code: String(o.code), message: String(o.message), advice: String(o.advice) };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { name: e instanceof Error ? e.name : 'Error', code: 'internal', message, advice: 'This is unexpected; please report it with the message above.' };
}
