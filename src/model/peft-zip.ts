/**
 * A PEFT adapter folder in one zip (what a browser can offer as a single download), and back: the folder's
 * two files, adapter_config.json and adapter_model.safetensors, under one top-level folder name, so that
 * unzipping gives a directory `PeftModel.from_pretrained(base, "<folder>")` reads as is.
 */
import { strFromU8, unzipSync, zipSync } from 'fflate';
import { AdapterMismatchError } from './errors';

export const PEFT_FILES = ['adapter_config.json', 'adapter_model.safetensors'] as const;

/** A folder name safe on every file system (run ids carry '/' and ':'). */
export function peftFolderName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+|_+$/g, '').slice(0, 120) || 'adapter';
}

/** Zips a PEFT folder's files under `folder/` (stored, not deflated: safetensors of f32 barely compress). */
export function zipPeftFolder(folder: string, files: Record<string, Uint8Array>): Uint8Array {
  const dir = peftFolderName(folder);
  const entries: Record<string, [Uint8Array, { level: 0 }]> = {};
  for (const name of PEFT_FILES) {
    const f = files[name];
    if (!f) throw new AdapterMismatchError(`the adapter folder lacks ${name}`);
    entries[`${dir}/${name}`] = [f, { level: 0 }];
  }
  return zipSync(entries);
}

export interface PeftFolder {
  /** adapter_config.json, parsed. */
  config: unknown;
  weights: Uint8Array;
}

/** The two PEFT files from their bytes, with clear errors for a wrong pick. */
export function peftFromFiles(files: ReadonlyMap<string, Uint8Array>): PeftFolder {
  const base = new Map([...files].map(([n, b]) => [n.split('/').at(-1)!, b]));
  const cfg = base.get('adapter_config.json');
  const weights = base.get('adapter_model.safetensors');
  if (!cfg || !weights) {
    const missing = PEFT_FILES.filter((f) => !base.has(f));
    const bin = base.has('adapter_model.bin') ? ' (adapter_model.bin is a pickle, which the lab does not read: save with safe_serialization=True)' : '';
    throw new AdapterMismatchError(`${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} missing${bin}; a PEFT adapter folder holds adapter_config.json and adapter_model.safetensors`);
  }
  let config: unknown;
  try {
    config = JSON.parse(strFromU8(cfg));
  } catch (e) {
    throw new AdapterMismatchError(`adapter_config.json is not valid JSON (${(e as Error).message})`);
  }
  return { config, weights };
}

/** An adapter's files unpack to at most this (a rank-256 adapter of a 1.5B model is ~1.2 GB) and at most `ratio` × their packed size (f32 weights barely compress). */
export const UNZIP_LIMITS = { entryBytes: 2 * 2 ** 30, ratio: 100 } as const;

/** A zip of a PEFT folder (at any depth, but only one adapter in it). */
export function unzipPeftFolder(zip: Uint8Array): PeftFolder {
  let entries: Record<string, Uint8Array>;
  // Sizes are checked from the zip's directory before anything is unpacked (fflate unpacks an entry into a
  // buffer of its declared size, never more): a 1 MiB zip cannot unpack to 1 GiB.
  let tooBig: string | null = null;
  try {
    entries = unzipSync(zip, {
      filter: (f) => {
        const wanted = /(^|\/)adapter_(config\.json|model\.safetensors|model\.bin)$/.test(f.name) && !f.name.startsWith('__MACOSX/');
        if (wanted && !tooBig && (f.originalSize > UNZIP_LIMITS.entryBytes || (f.compression !== 0 && f.originalSize > UNZIP_LIMITS.ratio * Math.max(f.size, 1024)))) {
          tooBig = `${f.name} unpacks to ${(f.originalSize / 2 ** 20).toFixed(0)} MiB from ${(f.size / 2 ** 20).toFixed(2)} MiB`;
        }
        return wanted && !tooBig;
      },
    });
  } catch (e) {
    throw new AdapterMismatchError(`the file is not a readable zip (${(e as Error).message})`);
  }
  if (tooBig) throw new AdapterMismatchError(`${tooBig}: more than any adapter (a compression bomb?); zip the adapter folder as ift-lab export-adapter does`);
  const configs = Object.keys(entries).filter((n) => n.endsWith('adapter_config.json'));
  const weights = Object.keys(entries).filter((n) => n.endsWith('adapter_model.safetensors'));
  if (configs.length > 1 || weights.length > 1) {
    const names = configs.length > 1 ? configs : weights;
    throw new AdapterMismatchError(`the zip holds ${names.length} adapters (${names.join(', ')}); zip one adapter folder`);
  }
  return peftFromFiles(new Map(Object.entries(entries)));
}

/** A zip file starts with "PK\x03\x04" (or "PK\x05\x06" when empty). */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5);
}
