/**
 * The text of a question file, whatever it was saved as: UTF-8 (with or without BOM), UTF-16 (LE/BE, with or
 * without BOM, as Excel's "Unicode text" writes it) or Latin-1 / Windows-1252. A file already decoded as
 * UTF-8 by someone else (the browser's File.text()) is checked for the marks a wrong decoding leaves.
 */
import { QuestionFileError } from '../errors';

export type TextEncodingName = 'UTF-8' | 'UTF-16LE' | 'UTF-16BE' | 'Windows-1252';

export interface DecodedText {
  text: string;
  encoding: TextEncodingName;
  /** Said when the file was not UTF-8: what it was read as, and what to check. */
  warning?: string;
}

/** Share of the even (LE: odd) bytes that are zero among the first 4 KiB: ASCII text in UTF-16 has half its bytes zero. */
function utf16Guess(b: Uint8Array): 'UTF-16LE' | 'UTF-16BE' | null {
  const n = Math.min(b.length - (b.length % 2), 4096);
  if (n < 4) return null;
  let evenZero = 0;
  let oddZero = 0;
  for (let i = 0; i < n; i += 2) {
    if (b[i] === 0) evenZero++;
    if (b[i + 1] === 0) oddZero++;
  }
  const pairs = n / 2;
  if (oddZero > 0.3 * pairs && evenZero < 0.05 * pairs) return 'UTF-16LE';
  if (evenZero > 0.3 * pairs && oddZero < 0.05 * pairs) return 'UTF-16BE';
  return null;
}

const notUtf8 = (enc: TextEncodingName) =>
  `The file is ${enc}, not UTF-8: it was read as ${enc}. Check that accented letters look right; saving it as UTF-8 avoids the guess.`;

/** Valid multi-byte UTF-8 sequences, and the offsets of bytes that start no valid sequence. */
function scanUtf8(b: Uint8Array): { multi: number; invalid: number[] } {
  let multi = 0;
  const invalid: number[] = [];
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    const n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    let ok = n > 0 && i + n <= b.length;
    for (let k = 1; ok && k < n; k++) ok = (b[i + k] & 0xc0) === 0x80;
    if (!ok) {
      invalid.push(i);
      i++;
    } else {
      if (n > 1) multi++;
      i += n;
    }
  }
  return { multi, invalid };
}

export function decodeQuestionBytes(data: ArrayBuffer | Uint8Array): DecodedText {
  const b = data instanceof Uint8Array ? data : new Uint8Array(data);
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return { text: new TextDecoder('utf-8').decode(b.subarray(3)), encoding: 'UTF-8' };
  if (b[0] === 0xff && b[1] === 0xfe) return { text: new TextDecoder('utf-16le').decode(b.subarray(2)), encoding: 'UTF-16LE', warning: notUtf8('UTF-16LE') };
  if (b[0] === 0xfe && b[1] === 0xff) return { text: new TextDecoder('utf-16be').decode(b.subarray(2)), encoding: 'UTF-16BE', warning: notUtf8('UTF-16BE') };
  const u16 = utf16Guess(b);
  if (u16) return { text: new TextDecoder(u16.toLowerCase()).decode(b), encoding: u16, warning: notUtf8(u16) };
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(b), encoding: 'UTF-8' };
  } catch {
    // A UTF-8 file with a stray byte or two is not a Windows-1252 file: point at the byte instead of garbling
    // every accented letter of the file ("Größe" → "GrÃ¶Ãe").
    const scan = scanUtf8(b);
    if (scan.multi > 0 && scan.invalid.length > 0 && scan.invalid.length <= Math.max(3, scan.multi / 10)) {
      const at = scan.invalid[0];
      let line = 1;
      for (let i = 0; i < at; i++) if (b[i] === 0x0a) line++;
      throw new QuestionFileError(
        `Line ${line} has a byte that is not UTF-8 (0x${b[at].toString(16).toUpperCase().padStart(2, '0')} at byte ${at}${scan.invalid.length > 1 ? `; ${scan.invalid.length} such bytes in all` : ''}), while the rest of the file is UTF-8 (${scan.multi} non-ASCII characters read fine).`,
        `Retype the character on line ${line} (it was probably pasted from another program) and save the file as UTF-8 again.`,
      );
    }
    // Not valid UTF-8: the usual other encoding of spreadsheet exports in Western Europe.
    return { text: new TextDecoder('windows-1252').decode(b), encoding: 'Windows-1252', warning: notUtf8('Windows-1252') };
  }
}

/**
 * Text someone else decoded as UTF-8: refuse it when it carries the marks of another encoding (NULs from
 * UTF-16, replacement characters from Latin-1) rather than report a garbled header.
 */
export function checkDecodedText(text: string, name = 'The file'): void {
  const head = text.slice(0, 4096);
  let nul = 0;
  let bad = 0;
  for (let i = 0; i < head.length; i++) {
    const c = head.charCodeAt(i);
    if (c === 0) nul++;
    else if (c === 0xfffd) bad++;
  }
  if (nul > head.length * 0.1 || /^(\uFFFD\uFFFD|\u00FF\u00FE|\u00FE\u00FF)/.test(head)) {
    throw new QuestionFileError(
      `${name} looks like UTF-16 (every other byte is zero), but it was read as UTF-8, so its text is garbled.`,
      'Save it as "CSV UTF-8" (Excel: Save As → CSV UTF-8) or UTF-8 text, then load it again; ift-lab validate reads UTF-16 directly.',
    );
  }
  if (bad > 0) {
    throw new QuestionFileError(
      `${name} is not UTF-8 (it has ${bad} byte(s) UTF-8 cannot read in its first 4 KiB): probably Latin-1 / Windows-1252.`,
      'Save it as UTF-8 (Excel: Save As → CSV UTF-8) and load it again; ift-lab validate reads Latin-1 directly.',
    );
  }
}
