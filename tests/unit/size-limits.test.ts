// Small files, huge memory (issue #27): every size limit holds before decoding or unpacking.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/ift-lab';
import { parseMmluParquet } from '../../src/lab/questions';
import { checkFileBytes, FILE_LIMITS } from '../../src/util/file-limits';

function io() {
  const lines: string[] = [];
  return { lines, io: { out: (s: string) => lines.push(s), err: (s: string) => lines.push(s) } };
}

describe('size limits before decoding', () => {
  it('a 700 MB CSV is refused from its size, without being read (a sparse file: no disk, no memory)', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ift-big-')), 'huge.csv');
    fs.writeFileSync(file, 'question,A,B,C,D,answer\n');
    fs.truncateSync(file, 700 * 2 ** 20);
    const before = process.memoryUsage().rss;
    const o = io();
    expect(await main(['validate', file], o.io)).toBe(1);
    expect(o.lines.join('\n')).toMatch(/The questions file .*huge\.csv is 700\.0 MiB; the limit is 32\.0 MiB/);
    // Nothing near 700 MB was allocated.
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 2 ** 20);
    fs.rmSync(path.dirname(file), { recursive: true });
  });

  it('a folder where a file is expected says so (not a bare EISDIR)', async () => {
    const o = io();
    expect(await main(['validate', os.tmpdir()], o.io)).toBe(1);
    expect(o.lines.join('\n')).toMatch(/is a folder, not a file/);
  });

  it("a parquet file declaring more rows than the limit is refused from its footer, before a page is decoded", async () => {
    const n = 100_001;
    const buf = parquetWriteBuffer({
      columnData: [
        { name: 'question', data: Array.from({ length: n }, () => 'q') },
        { name: 'answer', data: BigInt64Array.from({ length: n }, () => 0n) },
      ],
      schema: [
        { name: 'root', num_children: 2 },
        { name: 'question', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
        { name: 'answer', type: 'INT64', repetition_type: 'OPTIONAL' },
      ],
    });
    expect(buf.byteLength).toBeLessThan(2 ** 20);
    await expect(parseMmluParquet(buf, { split: 'test' })).rejects.toThrow(/The file has 100001 rows; the limit is 100000/);
  });

  it('the pages check a picked file before reading it', () => {
    expect(() => checkFileBytes('big.csv', FILE_LIMITS.questionBytes + 1, 'questionBytes')).toThrow(/big\.csv is 32\.0 MiB; the limit for this kind of file is 32\.0 MiB/);
    expect(() => checkFileBytes('ok.csv', 1000, 'questionBytes')).not.toThrow();
  });
});

describe('messages that help', () => {
  it('NaN in results.json is named (not "Was train.py stopped?")', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ift-nan-'));
    fs.writeFileSync(path.join(dir, 'results.json'), '{"format": "ift-lab-recipe-results", "x": NaN}');
    const o = io();
    expect(await main(['import-results', dir], o.io)).toBe(1);
    expect(o.lines.join('\n')).toMatch(/holds NaN or Infinity, which JSON does not allow/);
    expect(o.lines.join('\n')).not.toMatch(/Was train\.py stopped/);
  });

  it('a UTF-16 general instruction file is read (and said), not refused row by row as "not valid JSON"', async () => {
    const { loadGeneral } = await import('../../src/cli/bank');
    const { parseExperimentConfig } = await import('../../src/lab/experiment');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ift-u16-'));
    const g = path.join(dir, 'g.jsonl');
    const text = '{"instruction":"Say hi","output":"Hi"}\n{"instruction":"Say bye","output":"Bye"}\n';
    fs.writeFileSync(g, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    const warnings: string[] = [];
    const cfg = parseExperimentConfig({ name: 'g', model: { id: 'x' }, questions: { kind: 'toyworld', seed: 42 }, subjects: { train: ['toy_continents'] }, general: { path: g }, training: { lora: { rank: 2, alpha: 4, targets: ['q'] }, learningRate: 1e-3 } });
    expect(loadGeneral(cfg, (w) => warnings.push(w))).toHaveLength(2);
    expect(warnings[0]).toMatch(/UTF-16LE, not UTF-8/);
  });
});
