/**
 * A SharedResult ⇄ the data part of a link `#/share/<data>`: JSON, raw-deflated with fflate, base64url.
 * Decoding is total: whatever the fragment holds, the answer is a result or a typed ShareError.
 */
import { Inflate, deflateSync, strFromU8, strToU8 } from 'fflate';
import { fromBase64url, toBase64url } from './base64url';
import { LIMITS, validateSharedResult } from './schema';
import { SHARE_VERSION, type SharedResult } from './types';

export const SHARE_PREFIX = '#/share/';

export type ShareErrorCode = 'empty' | 'too-long' | 'not-base64url' | 'not-compressed' | 'too-large' | 'not-json' | 'wrong-version' | 'invalid';

export interface ShareError {
  code: ShareErrorCode;
  message: string;
  /** What is wrong, field by field (for 'invalid'). */
  issues: string[];
}

export type DecodeResult = { ok: true; result: SharedResult } | { ok: false; error: ShareError };

const MESSAGES: Record<ShareErrorCode, string> = {
  empty: 'This share link holds no result.',
  'too-long': 'This share link is longer than any result IFT Lab makes; it was not opened.',
  'not-base64url': 'This share link is damaged: it contains characters a result link never has (was it cut or edited?).',
  'not-compressed': 'This share link is damaged or truncated: its data cannot be unpacked.',
  'too-large': 'This share link unpacks to more data than any result IFT Lab makes; it was not opened.',
  'not-json': 'This is not an IFT Lab result (the data is damaged or of another kind).',
  'wrong-version': 'This result was made by a different version of IFT Lab.',
  invalid: 'This is not a valid IFT Lab result.',
};

function fail(code: ShareErrorCode, issues: string[] = [], message = MESSAGES[code]): DecodeResult {
  return { ok: false, error: { code, message, issues } };
}

/** Numbers keep 4 decimals (0.01 percentage points): the link stays short and no figure the report shows changes. */
export function roundForShare<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_k, x: unknown) => (typeof x === 'number' && !Number.isInteger(x) ? Math.round(x * 1e4) / 1e4 : x))) as T;
}

/** The link data for a result (validate first: encoding never checks). */
export function encodeShare(result: SharedResult): string {
  return toBase64url(deflateSync(strToU8(JSON.stringify(roundForShare(result))), { level: 9 }));
}

/** A full link to this app's share view. */
export function shareUrl(result: SharedResult, base: string): string {
  return `${base.split('#')[0]}${SHARE_PREFIX}${encodeShare(result)}`;
}

/** Compressed bytes fed to the inflater at a time: deflate expands at most ~1032×, so one slice yields ≤ ~130 KiB. */
const SLICE = 128;

/**
 * Inflates at most `limit` bytes, feeding the input in small slices so that a "zip bomb" stops within one
 * slice of the limit instead of being unpacked whole first. Null when the data is not raw deflate or is
 * truncated. `stats.inflated` counts the bytes actually produced (how far a bomb got).
 */
export function inflateLimited(data: Uint8Array, limit: number, stats: { inflated: number } = { inflated: 0 }): Uint8Array | 'too-large' | null {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let done = false;
  const inf = new Inflate((chunk, final) => {
    total += chunk.length;
    stats.inflated = total;
    chunks.push(chunk);
    if (final) done = true;
  });
  try {
    for (let at = 0; at < data.length; at += SLICE) {
      inf.push(data.subarray(at, at + SLICE), at + SLICE >= data.length);
      if (total > limit) return 'too-large';
    }
  } catch {
    return null;
  }
  if (!done) return null;
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** Decodes the data part of a link (or a whole fragment / URL holding `#/share/`). Never throws. */
export function decodeShare(input: string): DecodeResult {
  try {
    let data = typeof input === 'string' ? input : '';
    const at = data.indexOf(SHARE_PREFIX);
    if (at >= 0) data = data.slice(at + SHARE_PREFIX.length);
    data = data.trim();
    if (data.length === 0) return fail('empty');
    if (data.length > LIMITS.fragmentChars) return fail('too-long');
    const bytes = fromBase64url(data);
    if (!bytes || bytes.length === 0) return fail('not-base64url');
    const raw = inflateLimited(bytes, LIMITS.jsonBytes);
    if (raw === 'too-large') return fail('too-large');
    if (!raw) return fail('not-compressed');
    let json: unknown;
    try {
      json = JSON.parse(strFromU8(raw));
    } catch {
      return fail('not-json');
    }
    return checkResult(json);
  } catch {
    // Defence in depth: nothing above should throw, but a decoder must be total.
    return fail('not-compressed');
  }
}

/** Version check, then the schema; shared by links and JSON imports. */
export function checkResult(json: unknown): DecodeResult {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return fail('not-json');
  const ver = (json as { v?: unknown }).v;
  if (ver !== SHARE_VERSION) {
    const said = typeof ver === 'number' && Number.isFinite(ver) ? `version ${ver}` : 'no version';
    return fail('wrong-version', [], `${MESSAGES['wrong-version']} It says ${said}; this app reads version ${SHARE_VERSION}.`);
  }
  const r = validateSharedResult(json);
  return r.ok ? { ok: true, result: r.value } : fail('invalid', r.issues);
}
