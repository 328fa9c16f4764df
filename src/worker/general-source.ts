/**
 * General instruction data in the browser: the toy world's own set (from world.json, as the CLI's
 * `"general": {"builtin": "toyworld"}`), or a file the student chose, read by the lab's reader (src/lab/general.ts).
 */
import { LabError } from '../lab/errors';
import { sha256Hex } from '../lab/hash';
import { parseGeneral, requireGeneral, type GeneralExample } from '../lab/general';
import { toyGeneralSet, type ToyWorld } from '../lab/toyworld';
import type { Store, StoredRecord } from '../store/types';
import type { GeneralCheck, GeneralSource } from './protocol';

/** What the experiment config records of the source (a browser has no path: the file's name stands for it). */
export function generalConfigOf(source: GeneralSource, ratio: number): GeneralRef['config'] {
  return source.type === 'toyworld' ? { builtin: 'toyworld', ratio } : { path: source.filename, ratio };
}

/** Every example of the source; a file with any bad row is refused, naming the rows. */
export async function generalExamples(source: GeneralSource, worldJson: () => Promise<unknown>): Promise<GeneralExample[]> {
  if (source.type === 'toyworld') return toyGeneralSet(await toyWorld(worldJson));
  return requireGeneral(source.text, source.filename).examples;
}

/** What the source holds, for the page to show before anything is built (bad rows listed, not thrown). */
export async function checkGeneral(source: GeneralSource, worldJson: () => Promise<unknown>, maxErrors = 20): Promise<GeneralCheck> {
  const parsed = source.type === 'toyworld' ? { examples: toyGeneralSet(await toyWorld(worldJson)), errors: [], formats: {} } : parseGeneral(source.text);
  const last = (g: GeneralExample) => g.messages[g.messages.length - 1].content;
  const user = (g: GeneralExample) => g.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
  return {
    label: source.type === 'toyworld' ? "The toy world's general set" : source.filename,
    examples: parsed.examples.length,
    formats: parsed.formats,
    errors: parsed.errors.slice(0, maxErrors).map((e) => ({ line: e.line, field: e.field, reason: e.reason })),
    errorCount: parsed.errors.length,
    preview: parsed.examples.slice(0, 3).map((g) => ({ user: user(g), reply: last(g) })),
  };
}

async function toyWorld(worldJson: () => Promise<unknown>): Promise<ToyWorld> {
  const w = (await worldJson()) as ToyWorld;
  if (!w || w.format !== 'ift-lab-toyworld' || !Array.isArray(w.entities)) {
    throw new LabError('no-toy-world', 'The toy world (world.json) is missing or damaged in this build.', 'Reload the page; the app ships the toy world with its model.');
  }
  return w;
}

/** What a dataset record keeps of its general data: the config's entry, and where a file's examples are stored. */
export interface GeneralRef {
  config: { builtin: 'toyworld'; ratio: number } | { path: string; ratio: number };
  /** The `settings` record holding a file's examples (by content hash, so one file is stored once). */
  key?: string;
}

interface StoredGeneral extends StoredRecord {
  name: string;
  examples: GeneralExample[];
}

/**
 * A source's examples, with a file's stored in IndexedDB so that a run trained later (or resumed after a
 * reload, or drawing other data seeds) mixes in the same examples without the file.
 */
export async function keepGeneral(store: Store, source: GeneralSource, ratio: number, worldJson: () => Promise<unknown>): Promise<{ ref: GeneralRef; examples: GeneralExample[] }> {
  const examples = await generalExamples(source, worldJson);
  const config = generalConfigOf(source, ratio);
  if (source.type === 'toyworld') return { ref: { config }, examples };
  const key = `general:${(await sha256Hex(source.text)).slice(0, 32)}`;
  if (!(await store.get('settings', key))) await store.put<StoredGeneral>('settings', { id: key, createdAt: Date.now(), name: source.filename, examples });
  return { ref: { config, key }, examples };
}

/** The examples a dataset record's general data stood for (undefined when it had none). */
export async function storedGeneral(store: Store, ref: GeneralRef | undefined, worldJson: () => Promise<unknown>): Promise<GeneralExample[] | undefined> {
  if (!ref) return undefined;
  if ('builtin' in ref.config) return generalExamples({ type: 'toyworld' }, worldJson);
  const rec = ref.key ? await store.get<StoredGeneral>('settings', ref.key) : undefined;
  if (!rec) {
    throw new LabError('general-missing', `The instruction file ${ref.config.path} these datasets mixed in is no longer stored in this browser.`, 'Build the datasets again with the file.');
  }
  return rec.examples;
}
