/** Loading an experiment's questions from files in Node (the browser loads them from the Hub or a picked file). */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { LabError, QuestionFileError } from '../lab/errors';
import type { ExperimentConfig, QuestionBank } from '../lab/experiment';
import { requireGeneral, type GeneralExample } from '../lab/general';
import { BUILTIN_MODELS, TOY_WORLD_ID } from '../model/builtin';
import { toyGeneralSet, toyWorldBank, type ToyWorld } from '../lab/toyworld';
import { packageRoot } from './paths';
import { decodeQuestionBytes, DEFAULT_LIMITS, parseMmluCsv, parseQuestionFile, requireValid, type Question } from '../lab/questions';
import { FILE_LIMITS } from '../util/file-limits';
import { readBounded } from './files';

function readText(file: string): string {
  if (!fs.existsSync(file)) throw new QuestionFileError(`${file} does not exist.`, 'Check the path (relative paths start from the current directory).');
  return new TextDecoder().decode(readBounded(file, DEFAULT_LIMITS.maxBytes, 'The file'));
}

/** General instruction data: at most this many bytes (Alpaca's 52k examples are 22 MB). */
export const GENERAL_MAX_BYTES = FILE_LIMITS.generalBytes;

/** MMLU's CSV release: `<dir>/<split>/<subject>_<split>.csv`; dev is the few-shot bank. */
export function loadMmluDir(dir: string, poolSplits: readonly string[]): QuestionBank {
  if (!fs.existsSync(path.join(dir, 'dev'))) {
    throw new QuestionFileError(`${dir} has no dev/ folder: it is not MMLU's CSV release.`, 'Point questions.path at the folder holding dev/, val/ and test/.');
  }
  const read = (split: string): Question[] =>
    fs
      .readdirSync(path.join(dir, split))
      .filter((f) => f.endsWith(`_${split}.csv`))
      .sort()
      .flatMap((f) => {
        const subject = f.slice(0, -`_${split}.csv`.length);
        const file = path.join(dir, split, f);
        return requireValid(parseMmluCsv(readText(file), { subject, split }), file);
      });
  return { pool: poolSplits.flatMap(read), fewShot: read('dev') };
}

export async function loadQuestionFile(file: string): Promise<Question[]> {
  if (!fs.existsSync(file)) throw new QuestionFileError(`${file} does not exist.`, 'Check the path (relative paths start from the current directory).');
  return requireValid(await parseQuestionFile(file, readBounded(file, DEFAULT_LIMITS.maxBytes, 'The questions file')), file);
}

export async function loadBank(config: ExperimentConfig): Promise<QuestionBank> {
  const q = config.questions;
  switch (q.kind) {
    case 'mmlu-dir':
      return loadMmluDir(q.path, q.poolSplits);
    case 'file':
      return { pool: await loadQuestionFile(q.path), fewShot: q.fewShotPath ? await loadQuestionFile(q.fewShotPath) : [] };
    case 'mmlu-hub':
      throw new LabError('unsupported-source', 'The CLI does not download MMLU from the Hub.', 'Use {"kind": "mmlu-dir", "path": "<folder of the CSV release>"} in Node.');
    case 'toyworld':
      return loadToyWorld(q.seed);
  }
}

/** The built-in toy world: the exact world the shipped toy model was pretrained on (public/models/toy-world). */
function readWorld(seed: number): ToyWorld {
  const file = path.join(packageRoot(), 'public', BUILTIN_MODELS[TOY_WORLD_ID], 'world.json');
  const world = JSON.parse(readText(file)) as ToyWorld;
  if (world.options.seed !== seed) {
    throw new LabError(
      'toyworld-seed',
      `The built-in toy model was pretrained on the world of seed ${world.options.seed}, not ${seed}.`,
      `Set "questions": {"kind": "toyworld", "seed": ${world.options.seed}}; another world needs its own model (tools/toyworld/build.sh).`,
    );
  }
  return world;
}

export function loadToyWorld(seed: number): QuestionBank {
  return toyWorldBank(readWorld(seed));
}

/** The experiment's general instruction data: its file (every row checked), or the toy world's own set. */
export function loadGeneral(config: Pick<ExperimentConfig, 'general' | 'questions'>, onWarning?: (message: string) => void): GeneralExample[] | undefined {
  const g = config.general;
  if (!g) return undefined;
  if ('builtin' in g) {
    if (config.questions.kind !== 'toyworld') {
      throw new LabError('general-builtin', 'The built-in general set ("builtin": "toyworld") is written in the toy world\'s words; these questions are not the toy world\'s.', 'Give an instruction file with "general": {"path": …}, or drop "general".');
    }
    return toyGeneralSet(readWorld(config.questions.seed));
  }
  // Bytes decoded like a question file: UTF-16 or Latin-1 is read (and said), not refused row by row as "not JSON".
  const decoded = decodeQuestionBytes(readBounded(g.path, GENERAL_MAX_BYTES, 'The general instruction file'));
  if (decoded.warning) onWarning?.(`${g.path}: ${decoded.warning}`);
  return requireGeneral(decoded.text, g.path).examples;
}

function fileHash(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/**
 * The content hash of every input file a configuration names (questions, few-shot, general data, the toy
 * world; for an MMLU folder, one hash over its CSV files), keyed by path: part of the progress and checkpoint
 * fingerprints, so an edited file is never answered with results computed from the old one.
 */
export function inputHashes(config: Pick<ExperimentConfig, 'questions' | 'general'>): Record<string, string> {
  const out: Record<string, string> = {};
  const q = config.questions;
  if (q.kind === 'file') {
    out[q.path] = fileHash(q.path);
    if (q.fewShotPath) out[q.fewShotPath] = fileHash(q.fewShotPath);
  } else if (q.kind === 'mmlu-dir') {
    const h = createHash('sha256');
    for (const split of ['dev', ...q.poolSplits]) {
      const dir = path.join(q.path, split);
      if (!fs.existsSync(dir)) continue;
      for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.csv')).sort()) h.update(`${split}/${f}\u0000${fileHash(path.join(dir, f))}\n`);
    }
    out[q.path] = h.digest('hex');
  } else if (q.kind === 'toyworld') {
    const world = path.join(packageRoot(), 'public', BUILTIN_MODELS[TOY_WORLD_ID], 'world.json');
    out['toy world (world.json)'] = fileHash(world);
  }
  if (config.general && 'path' in config.general) out[config.general.path] = fileHash(config.general.path);
  return out;
}
