// Two runs, one folder: the CLI's child process ends with its parent (even after kill -9), and an output
// folder is written by one run at a time.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_FILE, lockOutputFolder } from '../../../src/cli/lock';
import { repoRoot } from '../../helpers/paths';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("ift-lab's child process", () => {
  it('exits when its parent is killed with kill -9', async () => {
    const watch = path.join(repoRoot, 'bin/parent-watch.mjs');
    const childCode = `import(${JSON.stringify(watch)}).then((m) => { m.exitWithParent(Number(process.env.P), { intervalMs: 100 }); setInterval(() => {}, 1000); });`;
    const parentCode = `const c = require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(childCode)}], { env: { ...process.env, P: String(process.pid) }, stdio: 'ignore' }); console.log(c.pid); setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['-e', parentCode], { stdio: ['ignore', 'pipe', 'inherit'] });
    const childPid = await new Promise<number>((resolve) => parent.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
    expect(alive(childPid)).toBe(true);
    parent.kill('SIGKILL');
    const t0 = Date.now();
    while (alive(childPid) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 100));
    expect(alive(childPid)).toBe(false);
  });
});

describe('the output folder lock', () => {
  it('refuses a second run on the same folder, naming the first; takes over a lock whose process is gone', () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ift-lock-')), 'out');
    const first = lockOutputFolder(dir);
    expect(() => lockOutputFolder(dir)).toThrow(new RegExp(`Another ift-lab \\(pid ${process.pid}, since .*\\) is writing ${dir}`));
    first.release();
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);
    // A lock left by a process that no longer exists (kill -9): taken over, with a note.
    const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: Number(gone.stdout.trim()), host: os.hostname(), since: 'then' }));
    const notes: string[] = [];
    const again = lockOutputFolder(dir, (m) => notes.push(m));
    expect(notes[0]).toMatch(/locked by a run that is gone/);
    again.release();
  });

  it('a run that stops before writing anything leaves no empty folder behind', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ift-lock-'));
    const dir = path.join(root, 'ift-lab-out', 'exp-123');
    lockOutputFolder(dir).release();
    expect(fs.readdirSync(root)).toEqual([]);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'result.json'), '{}');
    lockOutputFolder(dir).release();
    expect(fs.readdirSync(dir)).toEqual(['result.json']);
  });

  it('says so when --out is a file, before anything runs', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ift-lock-')), 'taken');
    fs.writeFileSync(file, 'x');
    expect(() => lockOutputFolder(file)).toThrow(/The output path .* is a file, not a folder/);
  });
});
