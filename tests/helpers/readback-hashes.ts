// Records what the GPU suite reads back, so a shader refactor can be checked bit for bit on SwiftShader.
// Off unless IFT_READBACK_HASHES names a folder: then every Runtime.read of a test file is hashed (FNV-1a of
// its bytes, in order, per test) and every pipeline's WGSL (comments and blank space dropped) is hashed per
// label|entry point, and one JSON per test file is written there. Compare two folders with
// `node scripts/compare-readback-hashes.mjs BEFORE AFTER`.
import { afterAll, beforeEach, expect } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { GpuRuntime } from '../../src/engine/runtime';

const dir = process.env.IFT_READBACK_HASHES;

function fnv(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
  return h;
}

/** The code the compiler sees: comments and runs of blank space do not change what it builds. */
export function normalizeWgsl(code: string): string {
  return code
    .replace(/\/\/[^\n]*/g, '')
    .replace(/\s+/g, ' ')
    .replace(/ ?([{}();,:<>=+\-*/[\]]) ?/g, '$1')
    .trim();
}

if (dir) {
  const reads: Record<string, string[]> = {};
  const shaders: Record<string, string> = {};
  let current = '(file)';
  beforeEach(() => {
    current = expect.getState().currentTestName ?? '(unnamed)';
  });
  const proto = GpuRuntime.prototype as unknown as {
    read: (this: GpuRuntime, ...a: unknown[]) => Promise<ArrayBufferView>;
    pipeline: (this: GpuRuntime, label: string, code: string, constants?: Record<string, number>, entry?: string) => unknown;
  };
  const read = proto.read;
  proto.read = async function (this: GpuRuntime, ...a: unknown[]) {
    const r = await read.apply(this, a);
    const bytes = new Uint8Array(r.buffer, r.byteOffset, r.byteLength);
    (reads[current] ??= []).push(`${r.byteLength}:${fnv(bytes).toString(16)}`);
    return r;
  };
  const pipeline = proto.pipeline;
  proto.pipeline = function (this: GpuRuntime, label, code, constants = {}, entry = 'main') {
    const key = `${label.replace(/\d+/g, '#')}|${entry}|${JSON.stringify(constants)}`;
    shaders[key] = fnv(new TextEncoder().encode(normalizeWgsl(code))).toString(16);
    return pipeline.call(this, label, code, constants, entry);
  };
  afterAll(() => {
    const file = basename(expect.getState().testPath ?? 'unknown');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${file}.json`), JSON.stringify({ reads, shaders }, null, 1));
  });
}
