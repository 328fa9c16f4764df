/**
 * Where the build puts files the app must serve from its own origin (works offline, no CDN).
 * onnxruntime-web: `env.backends.onnx.wasm.wasmPaths = ortWasmBase(appBase)` (transformers.js: the same
 * through `env.backends.onnx`). In a Worker, pass the app's base URL from the page, not `self.location`.
 */
export const ORT_WASM_DIR = 'ort/';

/** Absolute URL of the ort/ folder for an app served at `appBase` (e.g. document.baseURI). */
export function ortWasmBase(appBase: string): string {
  return new URL(ORT_WASM_DIR, appBase).href;
}
