/**
 * The probe's question sources in the browser: the built-in toy world (world.json next to the model),
 * MMLU from the Hub (cais/mmlu parquet, one subject at a time, kept in Cache Storage), or a user's file.
 * Each becomes a QuestionBank (pool + solved few-shot examples) and the split settings it implies.
 */
import { LabError, QuestionFileError } from '../lab/errors';
import type { QuestionBank } from '../lab/experiment';
import { parseMmluParquet, parseQuestionFile, requireValid, type Question } from '../lab/questions';
import type { SplitConfig } from '../lab/splits';
import { toyWorldBank as labToyWorldBank, type ToyWorld } from '../lab/toyworld';
import type { QuestionSource } from './protocol';
import { TOY_EXPERIMENT } from './toy-defaults';

export interface SourcedBank {
  bank: QuestionBank;
  /** Split settings for this source (the seed is the probe's). */
  split: Omit<SplitConfig, 'seed'>;
  /** Short name for manifests and titles. */
  label: string;
  /** The toy world's generator seed (what `ift-lab` names it by). */
  worldSeed?: number;
}

/** Toy-world subjects and split sizes: those of the one-click experiment (toy-defaults.ts). */
export const TOY_SPLIT: Omit<SplitConfig, 'seed'> = {
  trainSubjects: [...TOY_EXPERIMENT.subjects.train],
  related: [...TOY_EXPERIMENT.subjects.related],
  homoFraction: TOY_EXPERIMENT.splits.homoFraction,
  caps: { ...TOY_EXPERIMENT.splits.caps },
};

/** world.json (tools/toyworld) as a bank, read by the lab's own toy-world reader, as the CLI reads it. */
export function toyWorldBank(json: unknown): SourcedBank {
  const w = json as ToyWorld;
  if (!w || w.format !== 'ift-lab-toyworld' || !Array.isArray(w.questions)) {
    throw new QuestionFileError('world.json is not a toy world (format "ift-lab-toyworld").', 'Reload the page; the app ships the toy world with the model.');
  }
  const { pool, fewShot } = labToyWorldBank(w);
  return { bank: { pool, fewShot }, split: TOY_SPLIT, label: 'toy world', worldSeed: w.options?.seed };
}

const MMLU_REPO = 'https://huggingface.co/datasets/cais/mmlu/resolve/main';
const DATA_CACHE = 'ift-lab-data';

/** One parquet file of cais/mmlu, from Cache Storage when fetched before. */
async function mmluFile(subject: string, split: 'test' | 'dev', signal?: AbortSignal): Promise<ArrayBuffer> {
  if (!/^[a-z_]+$/.test(subject)) throw new LabError('bad-subject', `"${subject}" is not an MMLU subject name.`, 'Choose subjects from the list.');
  const url = `${MMLU_REPO}/${subject}/${split}-00000-of-00001.parquet`;
  const cache = typeof caches === 'undefined' ? null : await caches.open(DATA_CACHE);
  const hit = await cache?.match(url);
  if (hit) return hit.arrayBuffer();
  let res: Response;
  try {
    res = await fetch(url, { signal });
  } catch (e) {
    throw new LabError('download', `Could not download MMLU ${subject} (${(e as Error).message}).`, 'Check the connection, or load the questions from a file.');
  }
  if (!res.ok) throw new LabError('download', `The Hub answered ${res.status} for MMLU ${subject}/${split}.`, 'Check the subject name, or load the questions from a file.');
  const data = await res.arrayBuffer();
  await cache?.put(url, new Response(data));
  return data;
}

/** MMLU subjects: the test split is the pool, dev the 5-shot examples. Every chosen subject is a training subject. */
export async function mmluBank(subjects: readonly string[], signal?: AbortSignal, onSubject?: (done: number, total: number) => void): Promise<SourcedBank> {
  if (subjects.length === 0) throw new LabError('no-subjects', 'No MMLU subject was chosen.', 'Choose at least one subject.');
  const pool: Question[] = [];
  const fewShot: Question[] = [];
  for (const [i, s] of subjects.entries()) {
    pool.push(...requireValid(await parseMmluParquet(await mmluFile(s, 'test', signal), { split: 'test', defaultSubject: s }), `${s} (test)`));
    fewShot.push(...requireValid(await parseMmluParquet(await mmluFile(s, 'dev', signal), { split: 'dev', defaultSubject: s }), `${s} (dev)`));
    onSubject?.(i + 1, subjects.length);
  }
  // Only the chosen subjects are loaded: HOMO is held out of them; ID and OOD would need other subjects.
  return { bank: { pool, fewShot }, split: { trainSubjects: subjects, related: 'category', homoFraction: 0.3, allowEmpty: ['id', 'ood'] }, label: `MMLU ${subjects.join(', ')}` };
}

/**
 * A user's file: every subject trains; the first `k` questions of each subject become its solved examples
 * (a file has no dev split), so the k-shot prompt never shows a pool question its own answer.
 */
export async function fileBank(filename: string, text: string, k: number): Promise<SourcedBank> {
  const all = requireValid(await parseQuestionFile(filename, text), filename);
  const seen = new Map<string, number>();
  const pool: Question[] = [];
  const fewShot: Question[] = [];
  for (const q of all) {
    const n = seen.get(q.subject) ?? 0;
    seen.set(q.subject, n + 1);
    (n < k ? fewShot : pool).push(q);
  }
  return { bank: { pool, fewShot }, split: { trainSubjects: [...seen.keys()], related: [], homoFraction: 0.3, allowEmpty: ['id', 'ood'] }, label: filename };
}

export async function loadSource(source: QuestionSource, k: number, deps: { worldJson(): Promise<unknown>; signal?: AbortSignal }): Promise<SourcedBank> {
  switch (source.type) {
    case 'toyworld':
      return toyWorldBank(await deps.worldJson());
    case 'mmlu':
      return mmluBank(source.subjects, deps.signal);
    case 'file':
      return fileBank(source.filename, source.text, k);
  }
}
