// The Hub client against a real HTTP server on 127.0.0.1 (node:http), with a real directory cache.
import { createServer } from 'node:http';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { deleteCachedModel, downloadFile, listCachedModels, loadModelFiles, type DownloadProgress } from '../../../src/model/hub';
import { DirectoryModelCache } from '../../../src/model/cache-node';
import { DownloadError, TruncatedDownloadError } from '../../../src/model/errors';
import { writeSafetensors } from '../../../src/model/safetensors';
import { useLocalServer } from '../../helpers/local-server';

const weights = writeSafetensors({ w: { dtype: 'F32', shape: [64, 1024], data: new Float32Array(64 * 1024).fill(0.5) } });
const shardA = writeSafetensors({ a: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } });
const shardB = writeSafetensors({ b: { dtype: 'F32', shape: [1], data: new Float32Array([3]) } });
const j = (o: unknown) => Buffer.from(JSON.stringify(o));
const REPOS: Record<string, Record<string, Buffer>> = {
  'org/single': {
    'config.json': j({ model_type: 'llama' }),
    'generation_config.json': j({ eos_token_id: 2 }),
    'tokenizer.json': j({ model: { type: 'BPE' } }),
    'tokenizer_config.json': j({ chat_template: 'x' }),
    'model.safetensors': Buffer.from(weights),
  },
  'org/sharded': {
    'config.json': j({ model_type: 'qwen2' }),
    'tokenizer.json': j({}),
    'tokenizer_config.json': j({}),
    'model.safetensors.index.json': j({ weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' } }),
    'model-00001-of-00002.safetensors': Buffer.from(shardA),
    'model-00002-of-00002.safetensors': Buffer.from(shardB),
  },
};

let requests: string[] = [];
const local = useLocalServer('ift-hub-', (req, res) => {
  requests.push(req.url!);
  const m = /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(req.url!);
  if (req.url!.startsWith('/org/truncated/')) {
    // Promise 10000 bytes, send 100, then cut the connection.
    res.writeHead(200, { 'content-length': '10000' });
    res.write(Buffer.alloc(100));
    setTimeout(() => res.destroy(), 20);
    return;
  }
  if (req.url!.startsWith('/org/slow/')) {
    // Trickle bytes until the client goes away.
    res.writeHead(200, { 'content-length': '1000000' });
    const t = setInterval(() => res.write(Buffer.alloc(1000)), 5);
    res.on('close', () => clearInterval(t));
    return;
  }
  const body = m && m[2] === 'main' ? REPOS[m[1]]?.[m[3]] : undefined;
  if (!body) {
    res.writeHead(404).end('Entry not found');
    return;
  }
  res.writeHead(200, { 'content-length': String(body.byteLength) });
  // Send in pieces so progress has something to report.
  let i = 0;
  const step = () => {
    if (i >= body.byteLength) return res.end();
    res.write(body.subarray(i, (i += 65536)), step);
  };
  step();
});

describe('hub', () => {
  it('downloads a model with progress, then serves it from the cache with the server stopped', async () => {
    const cache = new DirectoryModelCache(join(local.root, 'c1'));
    const events: DownloadProgress[] = [];
    requests = [];
    const m = await loadModelFiles('org/single', { baseUrl: local.base, cache, onProgress: (p) => events.push(p) });
    expect(m.config).toEqual({ model_type: 'llama' });
    expect(m.generationConfig).toEqual({ eos_token_id: 2 });
    expect([...(await m.weights.readF32('w')).subarray(0, 3)]).toEqual([0.5, 0.5, 0.5]);
    expect(requests).toEqual(['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors'].map((f) => `/org/single/resolve/main/${f}`));
    const w = events.filter((e) => e.file === 'model.safetensors');
    expect(w.at(-1)).toMatchObject({ done: true, bytesDone: weights.byteLength, bytesTotal: weights.byteLength, fromCache: false, filesDone: 4, filesTotal: 5 });
    expect(w.at(-1)!.bytesPerSecond).toBeGreaterThan(0);
    expect(w[0].bytesTotal).toBe(weights.byteLength);

    // Stop the network: a second load must not need it.
    requests = [];
    const events2: DownloadProgress[] = [];
    const dead = async () => {
      throw new Error('network used');
    };
    const m2 = await loadModelFiles('org/single', { baseUrl: local.base, cache, fetch: dead, onProgress: (p) => events2.push(p) });
    expect(requests).toEqual([]);
    expect(events2.every((e) => e.fromCache)).toBe(true);
    expect(m2.bytes).toBe(m.bytes);
    expect([...(await m2.weights.readF32('w')).subarray(0, 2)]).toEqual([0.5, 0.5]);

    const list = await listCachedModels(cache);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ modelId: 'org/single', revision: 'main', bytes: m.bytes });
    expect(list[0].files.map((f) => f.file).sort()).toContain('model.safetensors');
    expect(await deleteCachedModel(cache, 'org/single')).toBeGreaterThanOrEqual(m.bytes);
    expect(await listCachedModels(cache)).toEqual([]);
  });

  it('serves from the cache after the real server has stopped', async () => {
    const cache = new DirectoryModelCache(join(local.root, 'c2'));
    await loadModelFiles('org/sharded', { baseUrl: local.base, cache });
    const s2 = createServer(() => {});
    // A server that is no longer listening: any request would fail with ECONNREFUSED.
    await new Promise<void>((r) => s2.listen(0, '127.0.0.1', r));
    const deadBase = `http://127.0.0.1:${(s2.address() as AddressInfo).port}`;
    await new Promise((r) => s2.close(r));
    const m = await loadModelFiles('org/sharded', { baseUrl: deadBase, cache });
    expect(m.generationConfig).toBeNull();
    expect([...(await m.weights.readF32('b'))]).toEqual([3]);
    expect([...(await m.weights.readF32('a'))]).toEqual([1, 2]);
    await expect(downloadFile('org/sharded', 'README.md', { baseUrl: deadBase, cache })).rejects.toThrow(DownloadError);
  });

  it('a truncated response gives a typed error and never enters the cache', async () => {
    const dir = join(local.root, 'c3');
    const cache = new DirectoryModelCache(dir);
    const err = await downloadFile('org/truncated', 'model.safetensors', { baseUrl: local.base, cache }).catch((e) => e);
    expect(err).toBeInstanceOf(TruncatedDownloadError);
    expect(err.code).toBe('download-truncated');
    expect(err.message).toMatch(/model\.safetensors \(org\/truncated\) stopped after 100 bytes of 10000/);
    expect(await cache.get({ modelId: 'org/truncated', revision: 'main', file: 'model.safetensors' })).toBeNull();
    const left = await readdir(dir, { recursive: true }).catch(() => []);
    expect(left.filter((f) => String(f).endsWith('.safetensors') || String(f).includes('partial'))).toEqual([]);
    // Without a cache too.
    await expect(downloadFile('org/truncated', 'x.bin', { baseUrl: local.base, cache: null })).rejects.toBeInstanceOf(TruncatedDownloadError);
  });

  it('a cancelled download rejects with the abort reason and caches nothing', async () => {
    const cache = new DirectoryModelCache(join(local.root, 'c4'));
    const ctl = new AbortController();
    const p = downloadFile('org/slow', 'model.safetensors', {
      baseUrl: local.base, cache, signal: ctl.signal,
      onProgress: (e) => e.bytesDone > 5000 && ctl.abort(new Error('user cancelled')),
    });
    await expect(p).rejects.toThrow('user cancelled');
    expect(await cache.entries()).toEqual([]);
  });

  it('404 names the file and the model id', async () => {
    const err = await loadModelFiles('org/missing', { baseUrl: local.base, cache: null }).catch((e) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.code).toBe('download-not-found');
    expect(err.status).toBe(404);
    expect(err.message).toMatch(/config\.json of org\/missing/);
    expect(err.advice).toMatch(/org\/missing/);
  });

  it('refuses path tricks in ids and file names', async () => {
    await expect(downloadFile('../etc', 'config.json', { baseUrl: local.base })).rejects.toThrow(DownloadError);
    await expect(downloadFile('org/single', '../x', { baseUrl: local.base })).rejects.toThrow(DownloadError);
  });
});
