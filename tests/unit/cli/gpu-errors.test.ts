// The CLI's "no GPU adapter" talks about the CLI (issue 26, item 6): no chrome://settings, the CPU flag and a driver.
import { describe, expect, it } from 'vitest';
import { cliGpuError } from '../../../src/cli/gpu';
import { NoAdapterError } from '../../../src/engine/errors';

describe('cliGpuError', () => {
  it('rewrites the engine’s browser advice for the command line', () => {
    const e = cliGpuError(new NoAdapterError()) as { code: string; message: string; advice: string };
    expect(e.code).toBe('no-adapter');
    expect(e.message).toBe('Dawn (WebGPU in Node) found no GPU adapter on this machine.');
    expect(e.advice).toContain('--device cpu');
    expect(e.advice).not.toMatch(/chrome:|browser/);
  });
  it('leaves every other error as it is', () => {
    const other = new Error('x');
    expect(cliGpuError(other)).toBe(other);
  });
});
