// A real HTTP server on 127.0.0.1 for the Hub and model-loading tests (no mocked fetch), with a fresh
// temporary directory for their caches.
import { createServer, type RequestListener, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';

export interface LocalServer {
  /** http://127.0.0.1:PORT, set before the file's tests run. */
  base: string;
  /** A temporary directory (named from the prefix), removed after the file's tests. */
  root: string;
}

/** Call at the top of a test file: starts the server before its tests (beforeAll) and stops it after. */
export function useLocalServer(tmpPrefix: string, handler: RequestListener): LocalServer {
  const local: LocalServer = { base: '', root: '' };
  let server: Server;
  beforeAll(async () => {
    local.root = await mkdtemp(join(tmpdir(), tmpPrefix));
    server = createServer(handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    local.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await rm(local.root, { recursive: true, force: true });
  });
  return local;
}
