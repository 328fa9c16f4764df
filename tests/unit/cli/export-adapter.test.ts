// `ift-lab export-adapter`: the PEFT folder an experiment writes (adapters/<run>/) as one zip the Model page
// imports, with a clear error for a folder that is not an adapter.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/ift-lab';
import { fixtureSpec } from '../../../src/model/fixtures';
import { exportPeft, importPeft, initLora } from '../../../src/model/lora';
import { unzipPeftFolder } from '../../../src/model/peft-zip';
import { writeSafetensors } from '../../../src/model/safetensors';

const spec = fixtureSpec();
const cfg = { rank: 2, alpha: 4, dropout: 0, targets: ['q', 'v'] as ('q' | 'v')[] };

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) } };
}

describe('ift-lab export-adapter', () => {
  it('zips a PEFT folder that reads back through the lab importer', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ift-export-'));
    const dir = path.join(root, 'incompatible-s1');
    fs.mkdirSync(dir);
    for (const [n, b] of Object.entries(exportPeft(spec, { config: cfg, tensors: initLora(spec, cfg, 3), step: 5 }, 'tiny').files)) fs.writeFileSync(path.join(dir, n), b);
    const o = io();
    expect(await main(['export-adapter', dir], o.io)).toBe(0);
    expect(o.out[0]).toMatch(/incompatible-s1\.zip: LoRA r=2, alpha=4 on q, v, 8 tensors/);
    const f = unzipPeftFolder(new Uint8Array(fs.readFileSync(`${dir}.zip`)));
    expect(Object.keys((await importPeft(spec, f.config, f.weights)).tensors)).toHaveLength(8);

    const empty = path.join(root, 'empty');
    fs.mkdirSync(empty);
    const e = io();
    expect(await main(['export-adapter', empty], e.io)).toBe(1);
    expect(e.err.join('\n')).toMatch(/adapter_config\.json and adapter_model\.safetensors are missing/);

    // --out naming its own input: refused, the input intact.
    const weights = path.join(dir, 'adapter_model.safetensors');
    const before = fs.readFileSync(weights);
    const w = io();
    expect(await main(['export-adapter', dir, '--out', weights], w.io)).toBe(1);
    expect(w.err.join('\n')).toMatch(/is the input file .*adapter_model\.safetensors/);
    expect(fs.readFileSync(weights).equals(before)).toBe(true);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('refuses what import would refuse: NaN, no tensors, r = 64 on rank-2 tensors (no zip written)', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ift-export-'));
    const write = (name: string, edit: (files: Record<string, Uint8Array>, tensors: Record<string, Float32Array>) => Record<string, Uint8Array>) => {
      const dir = path.join(root, name);
      fs.mkdirSync(dir);
      const tensors = initLora(spec, cfg, 3);
      const files = exportPeft(spec, { config: cfg, tensors, step: 5 }, 'tiny').files;
      for (const [n, b] of Object.entries(edit(files, tensors))) fs.writeFileSync(path.join(dir, n), b);
      return dir;
    };
    const nan = write('nan', (_f, t) => {
      const first = Object.keys(t)[0];
      t[first][0] = NaN;
      return exportPeft(spec, { config: cfg, tensors: t, step: 5 }, 'tiny').files;
    });
    const r64 = write('r64', (f) => {
      const c = JSON.parse(new TextDecoder().decode(f['adapter_config.json']));
      return { ...f, 'adapter_config.json': new TextEncoder().encode(JSON.stringify({ ...c, r: 64 })) };
    });
    const none = write('none', (f) => ({ ...f, 'adapter_model.safetensors': writeSafetensors({}) }));
    for (const [dir, msg] of [
      [nan, /has 1 non-finite value\(s\)/],
      [r64, /has rank 2 .*but adapter_config\.json says r = 64/],
      [none, /holds no tensors/],
    ] as const) {
      const o = io();
      expect(await main(['export-adapter', dir], o.io), dir).toBe(1);
      expect(o.err.join('\n')).toMatch(msg);
      expect(fs.existsSync(`${dir}.zip`)).toBe(false);
    }
    fs.rmSync(root, { recursive: true, force: true });
  });
});
