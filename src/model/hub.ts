/**
 * Model files from the Hugging Face Hub, with progress and a persistent cache.
 *
 * URL: {baseUrl}/{modelId}/resolve/{revision}/{file}. Every file is streamed through a counter into the
 * cache; a stream that ends short of its Content-Length (or breaks) errors, and the cache implementations
 * store nothing from an errored stream — so a truncated file can never be served later. A per-model
 * manifest, written last, records which files make the model; with it a second load needs no network.
 *
 * The browser cache is Cache Storage (`caches`); Node passes a DirectoryModelCache (cache-node.ts), kept in
 * its own module so browser bundles never import node:fs.
 */
import { DownloadError, TruncatedDownloadError } from './errors';
import { parseIndex, SafetensorsFile, ShardedCheckpoint, sourceFromBlob, type TensorReader } from './safetensors';

export const HF_BASE_URL = 'https://huggingface.co';

export interface CacheKey {
  modelId: string;
  revision: string;
  file: string;
}

export interface CachedModel {
  modelId: string;
  revision: string;
  files: { file: string; bytes: number }[];
  bytes: number;
}

/** Where downloaded files persist. `put` must store nothing if `body` errors. */
export interface ModelCache {
  get(key: CacheKey): Promise<Blob | null>;
  put(key: CacheKey, body: ReadableStream<Uint8Array>): Promise<void>;
  /** Every entry (file) cached, with its size. */
  entries(): Promise<(CacheKey & { bytes: number })[]>;
  delete(key: CacheKey): Promise<void>;
}

export interface DownloadProgress {
  modelId: string;
  file: string;
  bytesDone: number;
  /** From Content-Length; null when the server does not say. */
  bytesTotal: number | null;
  bytesPerSecond: number;
  /** Seconds left for this file; null when unknown. */
  etaSeconds: number | null;
  /** Files of this model finished so far, and how many are known to be needed. */
  filesDone: number;
  filesTotal: number;
  /** True on the event that completes the file (also emitted for cache hits). */
  done: boolean;
  fromCache: boolean;
}

export interface HubOptions {
  revision?: string;
  /** Defaults to https://huggingface.co; tests point it at a local server. */
  baseUrl?: string;
  /** null: no cache (always download). */
  cache?: ModelCache | null;
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  /** Hub access token for gated models (sent as a Bearer token). */
  token?: string;
  fetch?: typeof fetch;
}

const MANIFEST = '.ift-lab-manifest.json';
const MODEL_ID = /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/;
const FILE = /^[\w.-]+(\/[\w.-]+)*$/;

/** What the cache folder's .ift-lab-manifest.json lists (not an experiment's Manifest). */
interface CachedFiles {
  files: string[];
  weights: 'single' | 'sharded';
  hasGenerationConfig: boolean;
}

function checkNames(modelId: string, revision: string, file?: string) {
  if (!MODEL_ID.test(modelId) || modelId.includes('..'))
    throw new DownloadError(modelId, file ?? '(model)', null, 'the model id must look like "owner/name"');
  if (!/^[\w.-]+$/.test(revision) || revision.includes('..'))
    throw new DownloadError(modelId, file ?? '(model)', null, `revision "${revision}" is not a branch name or commit`);
  if (file !== undefined && (!FILE.test(file) || file.split('/').includes('..')))
    throw new DownloadError(modelId, file, null, 'not a plain file name');
}

export function fileUrl(modelId: string, file: string, revision = 'main', baseUrl = HF_BASE_URL): string {
  checkNames(modelId, revision, file);
  return `${baseUrl.replace(/\/$/, '')}/${modelId}/resolve/${encodeURIComponent(revision)}/${file}`;
}

/** A stream that counts bytes, reports progress, and errors if it ends short of (or past) `total`. */
function counted(
  body: ReadableStream<Uint8Array>,
  total: number | null,
  onBytes: (done: number) => void,
  onShort: (received: number) => Error,
): ReadableStream<Uint8Array> {
  let done = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctl) {
        done += chunk.byteLength;
        if (total !== null && done > total) {
          ctl.error(onShort(done));
          return;
        }
        onBytes(done);
        ctl.enqueue(chunk);
      },
      flush(ctl) {
        if (total !== null && done !== total) ctl.error(onShort(done));
      },
    }),
  );
}

type FileOptions = HubOptions & { filesDone?: number; filesTotal?: number };

/**
 * One file of a model, from the cache or the Hub (then cached). Returns null for an optional file the
 * repository lacks (404). Throws DownloadError (HTTP/network) or TruncatedDownloadError.
 */
export async function downloadFile(modelId: string, file: string, opts: FileOptions & { optional?: boolean } = {}): Promise<Blob | null> {
  const revision = opts.revision ?? 'main';
  const url = fileUrl(modelId, file, revision, opts.baseUrl);
  const key = { modelId, revision, file };
  const report = (p: Omit<DownloadProgress, 'modelId' | 'file' | 'filesDone' | 'filesTotal'>) =>
    opts.onProgress?.({ modelId, file, filesDone: opts.filesDone ?? 0, filesTotal: opts.filesTotal ?? 1, ...p });

  const cached = opts.cache ? await opts.cache.get(key) : null;
  if (cached) {
    report({ bytesDone: cached.size, bytesTotal: cached.size, bytesPerSecond: 0, etaSeconds: 0, done: true, fromCache: true });
    return cached;
  }

  const doFetch = opts.fetch ?? fetch;
  let res: Response;
  try {
    res = await doFetch(url, { signal: opts.signal, headers: opts.token ? { Authorization: `Bearer ${opts.token}` } : {} });
  } catch (e) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? e;
    throw new DownloadError(modelId, file, null, `network error (${(e as Error).message})`);
  }
  if (res.status === 404 && opts.optional) {
    await res.body?.cancel();
    return null;
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new DownloadError(modelId, file, res.status, `HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''} from ${url}`);
  }
  // With a content encoding (gzip), Content-Length counts compressed bytes: then the length is unknown.
  const enc = res.headers.get('content-encoding');
  const lenHeader = res.headers.get('content-length');
  const total = lenHeader !== null && (!enc || enc === 'identity') && /^\d+$/.test(lenHeader) ? Number(lenHeader) : null;

  const t0 = performance.now();
  let lastReport = -Infinity;
  let received = 0;
  const short = (received: number) => new TruncatedDownloadError(modelId, file, received, total);
  const stream = counted(
    res.body,
    total,
    (done) => {
      received = done;
      const now = performance.now();
      if (now - lastReport < 100 && done !== total) return; // at most ~10 events a second
      lastReport = now;
      const rate = done / Math.max((now - t0) / 1000, 1e-3);
      report({ bytesDone: done, bytesTotal: total, bytesPerSecond: rate, etaSeconds: total === null ? null : (total - done) / Math.max(rate, 1e-9), done: false, fromCache: false });
    },
    short,
  );

  const wrapError = (e: unknown): unknown => {
    if (opts.signal?.aborted) return opts.signal.reason ?? e;
    if (e instanceof TruncatedDownloadError) return e;
    // A broken connection surfaces as a TypeError ("terminated") from the body stream.
    return new TruncatedDownloadError(modelId, file, received, total);
  };

  let blob: Blob;
  if (opts.cache) {
    try {
      await opts.cache.put(key, stream);
    } catch (e) {
      throw wrapError(e);
    }
    const b = await opts.cache.get(key);
    if (!b) throw new DownloadError(modelId, file, null, 'the cache did not keep the file (storage full or denied?)');
    blob = b;
  } else {
    try {
      blob = await new Response(stream).blob();
    } catch (e) {
      throw wrapError(e);
    }
  }
  const secs = Math.max((performance.now() - t0) / 1000, 1e-3);
  report({ bytesDone: blob.size, bytesTotal: blob.size, bytesPerSecond: blob.size / secs, etaSeconds: 0, done: true, fromCache: false });
  return blob;
}

/** Everything the engine needs from a repository, parsed; weights stay on disk/in the cache until read. */
export interface ModelFiles {
  modelId: string;
  revision: string;
  config: unknown;
  generationConfig: unknown | null;
  tokenizer: unknown;
  tokenizerConfig: unknown;
  weights: TensorReader;
  /** The weight files themselves (single file or shards), for hashing into a manifest. */
  weightFiles: ReadonlyMap<string, Blob>;
  /** Total bytes of the files. */
  bytes: number;
}

async function json(blob: Blob, modelId: string, file: string): Promise<unknown> {
  try {
    return JSON.parse(await blob.text());
  } catch (e) {
    throw new DownloadError(modelId, file, null, `it is not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Download (or read from the cache) config.json, generation_config.json (optional), tokenizer.json,
 * tokenizer_config.json and the safetensors weights (single file, or index + shards).
 * With a complete cached copy, no request is made.
 */
export async function loadModelFiles(modelId: string, opts: HubOptions = {}): Promise<ModelFiles> {
  const revision = opts.revision ?? 'main';
  checkNames(modelId, revision);
  const cache = opts.cache ?? null;
  const mkey = { modelId, revision, file: MANIFEST };
  const mblob = cache ? await cache.get(mkey) : null;
  let manifest: CachedFiles | null = mblob ? ((await json(mblob, modelId, MANIFEST)) as CachedFiles) : null;

  const blobs = new Map<string, Blob>();
  let filesTotal = manifest ? manifest.files.length : 5;
  const get = async (file: string, optional = false) => {
    const b = await downloadFile(modelId, file, { ...opts, revision, cache, optional, filesDone: blobs.size, filesTotal });
    if (b) blobs.set(file, b);
    return b;
  };

  if (manifest) {
    for (const f of manifest.files) await get(f);
  } else {
    await get('config.json');
    const hasGen = (await get('generation_config.json', true)) !== null;
    if (!hasGen) filesTotal--;
    await get('tokenizer.json');
    await get('tokenizer_config.json');
    const weights = (await get('model.safetensors', true)) ? 'single' : 'sharded';
    if (weights === 'sharded') {
      const idx = await get('model.safetensors.index.json', true);
      if (!idx)
        throw new DownloadError(modelId, 'model.safetensors', 404, 'the repository has neither model.safetensors nor model.safetensors.index.json (IFT Lab needs safetensors weights)');
      const { shards } = parseIndex(await json(idx, modelId, 'model.safetensors.index.json'));
      filesTotal += shards.length;
      for (const s of shards) await get(s);
    }
    manifest = { files: [...blobs.keys()], weights, hasGenerationConfig: hasGen };
    if (cache) {
      const body = new Blob([JSON.stringify(manifest)]).stream();
      await cache.put(mkey, body);
    }
  }

  return filesFromBlobs(modelId, revision, blobs);
}

/**
 * Parse a model's files, however they were obtained (the Hub, a cache, a local folder, the app's own
 * bundled toy model): config, tokenizer and generation config as JSON, weights as a lazy reader.
 */
export async function filesFromBlobs(modelId: string, revision: string, blobs: ReadonlyMap<string, Blob>): Promise<ModelFiles> {
  const need = (file: string) => {
    const b = blobs.get(file);
    if (!b) throw new DownloadError(modelId, file, 404, 'the file is missing');
    return b;
  };
  let reader: TensorReader;
  if (blobs.has('model.safetensors')) reader = await SafetensorsFile.open(sourceFromBlob(blobs.get('model.safetensors')!), 'model.safetensors');
  else
    reader = await ShardedCheckpoint.open(await json(need('model.safetensors.index.json'), modelId, 'model.safetensors.index.json'), async (f) => {
      const b = blobs.get(f);
      if (!b) throw new DownloadError(modelId, f, null, 'the shard is not in the cached manifest; delete the cached model and download again');
      return sourceFromBlob(b);
    });
  const gen = blobs.get('generation_config.json');
  return {
    modelId,
    revision,
    config: await json(need('config.json'), modelId, 'config.json'),
    generationConfig: gen ? await json(gen, modelId, 'generation_config.json') : null,
    tokenizer: await json(need('tokenizer.json'), modelId, 'tokenizer.json'),
    tokenizerConfig: await json(need('tokenizer_config.json'), modelId, 'tokenizer_config.json'),
    weights: reader,
    weightFiles: new Map([...blobs].filter(([f]) => f.endsWith('.safetensors'))),
    bytes: [...blobs.values()].reduce((a, b) => a + b.size, 0),
  };
}

/** A model laid out as files in a folder (read by `read`, which returns null for an absent file). */
export async function loadFolderFiles(modelId: string, read: (file: string) => Promise<Blob | null>): Promise<ModelFiles> {
  const blobs = new Map<string, Blob>();
  for (const f of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors']) {
    const b = await read(f);
    if (b) blobs.set(f, b);
  }
  if (!blobs.has('model.safetensors')) {
    const idx = await read('model.safetensors.index.json');
    if (!idx) throw new DownloadError(modelId, 'model.safetensors', 404, 'the folder has neither model.safetensors nor model.safetensors.index.json');
    blobs.set('model.safetensors.index.json', idx);
    for (const s of parseIndex(await json(idx, modelId, 'model.safetensors.index.json')).shards) {
      const b = await read(s);
      if (!b) throw new DownloadError(modelId, s, 404, 'a shard named in the index is missing');
      blobs.set(s, b);
    }
  }
  return filesFromBlobs(modelId, 'local', blobs);
}

/** Models with a complete cached copy (a manifest), with their sizes. */
export async function listCachedModels(cache: ModelCache): Promise<CachedModel[]> {
  const all = await cache.entries();
  const out: CachedModel[] = [];
  for (const m of all.filter((e) => e.file === MANIFEST)) {
    const files = all.filter((e) => e.modelId === m.modelId && e.revision === m.revision && e.file !== MANIFEST).map((e) => ({ file: e.file, bytes: e.bytes }));
    out.push({ modelId: m.modelId, revision: m.revision, files, bytes: files.reduce((a, f) => a + f.bytes, 0) });
  }
  return out.sort((a, b) => a.modelId.localeCompare(b.modelId) || a.revision.localeCompare(b.revision));
}

/** Delete every cached file of a model (one revision, or all when revision is omitted). Returns bytes freed. */
export async function deleteCachedModel(cache: ModelCache, modelId: string, revision?: string): Promise<number> {
  let freed = 0;
  for (const e of await cache.entries())
    if (e.modelId === modelId && (revision === undefined || e.revision === revision)) {
      // The manifest goes first, so a half-deleted model never looks complete.
      if (e.file !== MANIFEST) continue;
      await cache.delete(e);
    }
  for (const e of await cache.entries())
    if (e.modelId === modelId && (revision === undefined || e.revision === revision)) {
      freed += e.bytes;
      await cache.delete(e);
    }
  return freed;
}

/** The browser's persistent cache (Cache Storage). Keys are synthetic URLs; sizes travel in a header. */
export class CacheStorageModelCache implements ModelCache {
  constructor(
    private readonly name = 'ift-lab-models',
    private readonly storage: CacheStorage = caches,
  ) {}

  // The id is percent-encoded (its "/" too), so the path splits unambiguously into id / revision / file.
  private url(k: CacheKey): string {
    return `https://ift-lab.invalid/${encodeURIComponent(k.modelId)}/${encodeURIComponent(k.revision)}/${k.file}`;
  }

  async get(k: CacheKey): Promise<Blob | null> {
    const r = await (await this.storage.open(this.name)).match(this.url(k));
    return r ? r.blob() : null;
  }

  async put(k: CacheKey, body: ReadableStream<Uint8Array>): Promise<void> {
    // cache.put consumes the stream and rejects, storing nothing, if the stream errors.
    await (await this.storage.open(this.name)).put(this.url(k), new Response(body, { headers: { 'content-type': 'application/octet-stream' } }));
  }

  async entries(): Promise<(CacheKey & { bytes: number })[]> {
    const c = await this.storage.open(this.name);
    const out: (CacheKey & { bytes: number })[] = [];
    for (const req of await c.keys()) {
      const parts = new URL(req.url).pathname.slice(1).split('/');
      if (!req.url.startsWith('https://ift-lab.invalid/') || parts.length < 3) continue;
      const r = await c.match(req);
      const bytes = r ? (await r.blob()).size : 0;
      out.push({ modelId: decodeURIComponent(parts[0]), revision: decodeURIComponent(parts[1]), file: parts.slice(2).join('/'), bytes });
    }
    return out;
  }

  async delete(k: CacheKey): Promise<void> {
    await (await this.storage.open(this.name)).delete(this.url(k));
  }
}
