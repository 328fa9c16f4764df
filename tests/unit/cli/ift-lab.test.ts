import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';

// Each case spawns Node (twice for commands that need the GPU): seconds, not milliseconds, on a busy machine.
vi.setConfig({ testTimeout: 60_000 });
import { fixturesDir, mmluDir, repoRoot } from '../../helpers/paths';

// The real command: the Node build (npm run build:node) run through bin/ift-lab.mjs.
function ift(...args: string[]) {
  return iftEnv({}, ...args);
}

function iftEnv(extra: Record<string, string | undefined>, ...args: string[]) {
  // No test reaches the real Hub: an empty model cache and a port where nothing listens.
  const env = { ...process.env, IFT_LAB_CACHE: fs.mkdtempSync(path.join(os.tmpdir(), 'ift-cache-')), IFT_LAB_HUB_URL: 'http://127.0.0.1:9', ...extra };
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin/ift-lab.mjs'), ...args], { cwd: repoRoot, encoding: 'utf8', env });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  const b = spawnSync('npx', ['vite', 'build', '--config', 'vite.node.config.ts', '--logLevel', 'error'], { cwd: repoRoot, encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`build:node failed:\n${b.stdout}\n${b.stderr}`);
}, 120_000);

const q = (name: string) => {
  const dir = path.join(fixturesDir, 'questions', name);
  return path.join(dir, fs.readdirSync(dir).find((f) => f !== 'expected.json')!);
};

describe('ift-lab validate', () => {
  it('accepts a clean MMLU file (exit 0)', () => {
    const r = ift('validate', path.join(mmluDir, 'test/astronomy_test.csv'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/30 questions, 1 subject\(s\), no problems/);
  });

  it('prints every bad row with line and field, and exits 1', () => {
    const file = q('user-csv-row-errors');
    const r = ift('validate', file);
    expect(r.code).toBe(1);
    const expected = JSON.parse(fs.readFileSync(path.join(path.dirname(file), 'expected.json'), 'utf8')).errors as { line: number; field: string }[];
    for (const e of expected) expect(r.out).toContain(`${file}:${e.line}: ${e.field}: `);
    expect(r.out).toMatch(/9 problem\(s\) in 7 of 9 row\(s\); 2 row\(s\) are valid/);
  });

  it('explains an unusable file (empty, bad JSONL) with advice, exit 1', () => {
    const empty = ift('validate', q('user-csv-empty'));
    expect(empty.code).toBe(1);
    expect(empty.err).toMatch(/error: The file is empty\.\nwhat to do: /);
    const jsonl = ift('validate', q('jsonl-not-jsonl'));
    expect(jsonl.code).toBe(1);
    expect(jsonl.err).toMatch(/does not look like JSONL/);
    const missing = ift('validate', 'no/such/file.csv');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/does not exist/);
  });

  it('reads UTF-16, names the encoding, reports unknown columns and takes a subject (exit 0)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ift-'));
    const f = path.join(dir, 'excel.csv');
    const text = 'question,A,B,C,D,answer,notes\nWhich café?,a,b,c,d,B,x\n';
    fs.writeFileSync(f, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    const r = ift('validate', f);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`${f}: warning: The file is UTF-16LE, not UTF-8`);
    expect(r.out).toContain('Column(s) "notes" are not read');
    expect(r.out).toMatch(/1 questions, 1 subject\(s\), no problems/);
    // Header-less MMLU rows under any name; Xiezhi-style JSONL with a subject path.
    const renamed = path.join(dir, 'download.csv');
    fs.copyFileSync(path.join(mmluDir, 'val/astronomy_val.csv'), renamed);
    const m = ift('validate', renamed, '--subject', 'astronomy');
    expect(m.code).toBe(0);
    expect(m.out).toMatch(/read as MMLU's header-less format/);
    const x = ift('validate', q('jsonl-xiezhi'), '--subject-field', 'raw.labels[2]');
    expect(x.code).toBe(0);
    expect(x.out).toMatch(/3 questions, 3 subject\(s\), no problems/);
  });

  it('usage errors exit 2', () => {
    expect(ift().code).toBe(2);
    expect(ift('validate').code).toBe(2);
    expect(ift('frobnicate').err).toMatch(/Unknown command "frobnicate"/);
    expect(ift('--help').code).toBe(0);
  });
});

describe('ift-lab experiment', () => {
  it('validates the config, loads MMLU, then explains a model it cannot download', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ift-'));
    // The shipped example names a full MMLU folder; here the same config reads the test slice.
    const cfg = path.join(out, 'mmlu.json');
    const example = JSON.parse(fs.readFileSync(path.join(repoRoot, 'examples/mmlu-qwen2.5-0.5b.json'), 'utf8'));
    // The slice has five subjects: train on two of them (a subject the questions lack is an error).
    fs.writeFileSync(cfg, JSON.stringify({ ...example, questions: { ...example.questions, path: mmluDir }, subjects: { train: ['high_school_geography', 'sociology'] } }));
    const r = ift('experiment', cfg, '--out', out);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/\[load\] 256 questions, 25 few-shot examples/);
    expect(r.err).toMatch(/Qwen\/Qwen2\.5-0\.5B/);
    expect(r.err).toMatch(/config\.json/);
  });

  it('--out defaults to a folder named after the config name and hash; --resume and --fresh exclude each other', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ift-'));
    const example = JSON.parse(fs.readFileSync(path.join(repoRoot, 'examples/mmlu-qwen2.5-0.5b.json'), 'utf8'));
    const write = (name: string, lr: number) => {
      const f = path.join(dir, name);
      fs.writeFileSync(f, JSON.stringify({ ...example, questions: { ...example.questions, path: mmluDir }, training: { ...example.training, learningRate: lr } }));
      return f;
    };
    const outOf = (r: { err: string }) => /\[out\] (.*)/.exec(r.err)?.[1];
    const a = outOf(ift('experiment', write('a.json', 2e-4)));
    const same = outOf(ift('experiment', write('b.json', 2e-4)));
    const other = outOf(ift('experiment', write('c.json', 5e-3)));
    expect(a).toMatch(/^ift-lab-out\/mmlu-social-sciences-qwen2\.5-0\.5b-[0-9a-f]{12}$/);
    expect(same).toBe(a);
    expect(other).not.toBe(a);
    const both = ift('experiment', write('d.json', 2e-4), '--resume', '--fresh');
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/--resume and --fresh exclude each other/);
  });

  it('lists config problems with their paths', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ift-'));
    const cfg = path.join(dir, 'bad.json');
    const good = JSON.parse(fs.readFileSync(path.join(repoRoot, 'examples/mmlu-qwen2.5-0.5b.json'), 'utf8'));
    fs.writeFileSync(cfg, JSON.stringify({ ...good, probe: { ...good.probe, threshold: 2 }, seeds: [] }));
    const r = ift('experiment', cfg);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/probe\.threshold: /);
    expect(r.err).toMatch(/seeds: /);
    fs.writeFileSync(cfg, '{ not json');
    expect(ift('experiment', cfg).err).toMatch(/is not valid JSON/);
  });
});

describe('ift-lab on a machine without a Vulkan driver for Dawn', () => {
  const noDriver = { IFT_LAB_SWIFTSHADER_ICD: '/nonexistent/vk_swiftshader_icd.json', VK_ICD_FILENAMES: undefined, VK_DRIVER_FILES: undefined, IFT_LAB_SYSTEM_VULKAN: undefined, IFT_LAB_GPU_ENV: undefined };
  const example = () => JSON.parse(fs.readFileSync(path.join(repoRoot, 'examples/mmlu-qwen2.5-0.5b.json'), 'utf8'));

  it('checks everything before the GPU (config, questions, model files); asked for WebGPU it stops with the install line, at auto it runs on the CPU', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ift-'));
    const cfg = path.join(dir, 'c.json');
    fs.writeFileSync(cfg, JSON.stringify({ ...example(), questions: { ...example().questions, path: mmluDir }, subjects: { train: ['high_school_geography', 'sociology'] } }));
    const r = iftEnv(noDriver, 'experiment', cfg, '--out', path.join(dir, 'out'), '--no-estimate');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/\[load\] 256 questions/);
    expect(r.err).toMatch(/Qwen\/Qwen2\.5-0\.5B/);
    expect(r.err).not.toMatch(/Vulkan/);
    // The built-in toy model needs no download. Asked for WebGPU, the first use of the GPU names what to install.
    fs.writeFileSync(cfg, JSON.stringify({ ...example(), model: { id: 'builtin:toy-world' }, questions: { kind: 'toyworld', seed: 42 }, subjects: { train: ['toy_continents'], related: ['toy_languages'] } }));
    const g = iftEnv(noDriver, 'experiment', cfg, '--out', path.join(dir, 'out2'), '--no-estimate', '--device', 'webgpu');
    expect(g.code).toBe(1);
    expect(g.err).toMatch(/error: No Vulkan driver for WebGPU in Node/);
    expect(g.err).toMatch(/apt-get install/);
    // Left at auto, the same machine runs on the CPU backend and says why (the estimate is a short run of it).
    const c = iftEnv(noDriver, 'estimate', cfg);
    expect(c.code, c.err).toBe(0);
    expect(c.err).toMatch(/\[model\] device: The CPU backend: WebGPU is not available here \(No Vulkan driver/);
    expect(c.out).toMatch(/total/);
  });
});

describe('ift-lab experiment refuses careless inputs before any work', () => {
  it('a misspelt subject (closest name suggested), a model id like "toString", a BOM, --out that is a file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ift-'));
    const cfg = path.join(dir, 'c.json');
    const toy = { name: 'toy', model: { id: 'builtin:toy-world' }, questions: { kind: 'toyworld', seed: 42 }, subjects: { train: ['toy_continents', 'toy_currencie'] }, training: { lora: { rank: 2, alpha: 4, targets: ['q'] }, learningRate: 1e-3, epochs: 1 } };
    fs.writeFileSync(cfg, '\ufeff' + JSON.stringify(toy));
    const typo = ift('experiment', cfg, '--out', path.join(dir, 'o1'), '--no-estimate');
    expect(typo.code).toBe(1);
    expect(typo.err).toMatch(/subjects\.train: "toy_currencie" is not a subject of the loaded questions \(did you mean "toy_currencies"\?\)/);
    fs.writeFileSync(cfg, JSON.stringify({ ...toy, subjects: { train: ['toy_continents'] }, model: { id: 'toString' } }));
    const ts = ift('experiment', cfg, '--out', path.join(dir, 'o2'), '--no-estimate');
    expect(ts.code).toBe(1);
    expect(ts.err).not.toMatch(/"path" argument/);
    const file = path.join(dir, 'taken');
    fs.writeFileSync(file, 'x');
    const out = ift('experiment', cfg, '--out', file, '--no-estimate');
    expect(out.code).toBe(1);
    expect(out.err).toMatch(/The output path .*taken is a file, not a folder/);
    expect(out.err).not.toMatch(/\[load\]/);
  });
});

describe('ift-lab estimate', () => {
  it('needs a config, and checks it like experiment does', () => {
    expect(ift('estimate').code).toBe(2);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ift-'));
    const cfg = path.join(dir, 'bad.json');
    const good = JSON.parse(fs.readFileSync(path.join(repoRoot, 'examples/mmlu-qwen2.5-0.5b.json'), 'utf8'));
    fs.writeFileSync(cfg, JSON.stringify({ ...good, model: { ...good.model, precision: 'bf16' } }));
    const r = ift('estimate', cfg);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/model\.precision: /);
  });
});
