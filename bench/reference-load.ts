/**
 * transformers.js (4.x) loading a model from memory: no disk, no server, no network. transformers.js looks a
 * file up in its cache before anywhere else, so a custom cache (`env.customCache`, the Web Cache API's
 * `match`/`put`) that answers from a Map serves every file; anything not in the Map (optional files such as
 * generation_config.json) is answered 404 by a custom `env.fetch`, so a miss never leaves the process. In Node
 * this path also works for the ONNX file itself: transformers.js asks for a path there, and falls back to the
 * cache's buffer when the file came from a cache. The env fields are restored after loading: the sessions
 * exist by then and nothing else is read.
 */
import { AutoModelForCausalLM, env, type PreTrainedModel } from '@huggingface/transformers';

/** Where the in-memory files pretend to live; never fetched. */
const ROOT = '/ift-lab-memory/';

export type ReferenceDevice = 'webgpu' | 'cpu' | 'wasm';

export const IS_NODE = typeof process !== 'undefined' && typeof process.versions?.node === 'string' && typeof window === 'undefined';

/** 'onnxruntime-node webgpu', 'onnxruntime-web webgpu', …: which ONNX GpuRuntime build and execution provider ran. */
export function backendLabel(device: ReferenceDevice): string {
  return `${IS_NODE ? 'onnxruntime-node' : 'onnxruntime-web'} ${device}`;
}

/**
 * `files`: a Hub repository's layout (config.json, onnx/model.onnx, …). `id` must look like a Hub id
 * ("owner/name"); it only names the files. `wasmPaths`: onnxruntime-web's .wasm folder (browser only).
 */
export async function loadReferenceModel(
  id: string,
  files: ReadonlyMap<string, Uint8Array>,
  opts: { device: ReferenceDevice; wasmPaths?: string },
): Promise<PreTrainedModel> {
  const keys = ['allowLocalModels', 'allowRemoteModels', 'localModelPath', 'useFS', 'useFSCache', 'useBrowserCache', 'useCustomCache', 'customCache', 'fetch'] as const;
  const saved = Object.fromEntries(keys.map((k) => [k, env[k]]));
  // Local lookups resolve to ROOT + id/file, remote ones to …/id/resolve/main/file: either maps to `file`.
  const prefix = `${id}/`;
  const fileOf = (key: string): string | null => {
    const at = key.indexOf(prefix);
    if (at < 0) return null;
    return key.slice(at + prefix.length).replace(/^resolve\/[^/]+\//, '');
  };
  const originalFetch = env.fetch;
  Object.assign(env, {
    allowLocalModels: true,
    allowRemoteModels: false,
    localModelPath: ROOT,
    useFS: false,
    useFSCache: false,
    useBrowserCache: false,
    useCustomCache: true,
    customCache: {
      async match(key: string) {
        const name = fileOf(key);
        const bytes = name === null ? undefined : files.get(name);
        return bytes ? new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-length': String(bytes.byteLength) } }) : undefined;
      },
      async put() {},
    },
    fetch: (input: string | URL, init?: unknown) =>
      String(input).includes(ROOT) ? Promise.resolve(new Response(null, { status: 404 })) : originalFetch(input, init),
  });
  if (opts.wasmPaths && env.backends.onnx.wasm) env.backends.onnx.wasm.wasmPaths = opts.wasmPaths;
  try {
    return await AutoModelForCausalLM.from_pretrained(id, { dtype: 'fp32', device: opts.device });
  } finally {
    Object.assign(env, saved);
  }
}
