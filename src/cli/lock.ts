/**
 * One run per output folder: `<out>/.ift-lab.lock` is created exclusively (O_EXCL) and holds the owner's pid.
 * A second ift-lab on the same folder stops at once, naming the first; a lock whose process is gone (kill -9,
 * a power cut) is taken over with a note.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LabError } from '../lab/errors';

export const LOCK_FILE = '.ift-lab.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as { code?: string }).code === 'EPERM';
  }
}

export interface FolderLock {
  file: string;
  release(): void;
}

export function lockOutputFolder(dir: string, onNote?: (message: string) => void): FolderLock {
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) {
    throw new LabError('out-not-folder', `The output path ${dir} is a file, not a folder.`, 'Give --out a folder (new or one an earlier run of this configuration wrote).');
  }
  // The first folder this call creates (undefined when dir existed): a run that stops before writing
  // anything leaves no empty folders behind.
  const created = fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, LOCK_FILE);
  const body = JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString() });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, body, { flag: 'wx' });
      let released = false;
      return {
        file,
        release: () => {
          if (released) return;
          released = true;
          fs.rmSync(file, { force: true });
          if (created) {
            for (let d = path.resolve(dir); d.length >= path.resolve(created).length; d = path.dirname(d)) {
              try {
                fs.rmdirSync(d);
              } catch {
                break;
              }
            }
          }
        },
      };
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') throw e;
    }
    let owner: { pid?: unknown; host?: unknown; since?: unknown } = {};
    try {
      owner = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch {
      // Unreadable: written by a process cut off mid-write; treated as stale below.
    }
    const pid = typeof owner.pid === 'number' ? owner.pid : null;
    const sameHost = owner.host === undefined || owner.host === os.hostname();
    if (pid !== null && (!sameHost || alive(pid))) {
      throw new LabError(
        'out-locked',
        `Another ift-lab (pid ${pid}${sameHost ? '' : ` on ${String(owner.host)}`}, since ${String(owner.since)}) is writing ${dir}.`,
        `Wait for it to finish (or stop it), or give this run another --out. If no such run exists, delete ${file}.`,
      );
    }
    onNote?.(`${dir} was locked by a run that is gone (pid ${pid ?? 'unknown'}); taking it over.`);
    fs.rmSync(file, { force: true });
  }
  throw new LabError('out-locked', `Could not lock ${dir}.`, `Delete ${file} if no ift-lab is running, then run again.`);
}
