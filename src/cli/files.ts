/** Reading a user's file in the CLI: its size checked before a byte is read, and every failure said in words. */
import fs from 'node:fs';
import { LabError } from '../lab/errors';

const mib = (n: number) => `${(n / 2 ** 20).toFixed(n < 2 ** 20 ? 2 : 1)} MiB`;

/**
 * The bytes of `file`, refused before reading when it is missing, a folder, or larger than `maxBytes` (a
 * 700 MB CSV never reaches the decoder). `what` names the file in messages ("the questions file").
 */
export function readBounded(file: string, maxBytes: number, what: string): Uint8Array {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw new LabError('not-found', `${what} ${file} does not exist.`, 'Check the path (relative paths start from the current directory).');
  }
  if (st.isDirectory()) throw new LabError('is-a-folder', `${what} ${file} is a folder, not a file.`, 'Name the file inside it.');
  if (st.size > maxBytes) {
    throw new LabError('file-too-large', `${what} ${file} is ${mib(st.size)}; the limit is ${mib(maxBytes)}.`, 'Split the file, or keep only the part you need.');
  }
  return new Uint8Array(fs.readFileSync(file));
}

/** Text of a small JSON file (config, results): UTF-8, a BOM dropped (Notepad writes one), UTF-16 named. */
export function readJsonText(file: string, maxBytes: number, what: string): string {
  const b = readBounded(file, maxBytes, what);
  if ((b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff)) {
    throw new LabError('not-utf8', `${what} ${file} is UTF-16, not UTF-8.`, 'Save it as UTF-8 (in Notepad: Save As → Encoding: UTF-8).');
  }
  const start = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
  return new TextDecoder('utf-8').decode(b.subarray(start));
}
