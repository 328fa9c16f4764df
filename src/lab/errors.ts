/**
 * Typed lab errors. The base (code, message, advice) is the one of src/util/errors.ts, shared with the
 * engine's errors, so `toErrorInfo` carries them across the Worker boundary unchanged.
 */
import { AdvisedError } from '../util/errors';

/** An error of the lab's science: bad input, an impossible split or condition, a diverged run. */
export class LabError extends AdvisedError {}

/** `text` parsed as JSON, or a LabError naming the file (`name`) with `advice` for a student. */
export function parseJsonText(name: string, text: string, advice: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new LabError('invalid-json', `${name} is not valid JSON (${(e as Error).message}).`, advice);
  }
}

// Cancellation is not the lab's alone (the Worker and the page cancel too): one class, in src/util.
export { CancelledError } from '../util/errors';

/** One bad row of a question file. `line` is 1-based in the file (a CSV header is line 1). */
export interface RowError {
  line: number;
  field: string;
  reason: string;
}

/** A question file that cannot be used at all (empty, too large, wrong format) or has bad rows. */
export class QuestionFileError extends LabError {
  constructor(
    message: string,
    advice: string,
    readonly rows: readonly RowError[] = [],
  ) {
    super('question-file', message, advice);
  }
}

export type SplitName = 'train' | 'homo' | 'id' | 'ood';

export class EmptySplitError extends LabError {
  constructor(
    readonly split: SplitName,
    reason: string,
  ) {
    super(
      'empty-split',
      `The ${split.toUpperCase()} split is empty: ${reason}.`,
      'Choose other training/related subjects, lower the HOMO fraction, raise the size caps, or load more questions.',
    );
  }
}

/** Subjects named in a configuration that no loaded question has (a typo would otherwise move data between splits). */
export class UnknownSubjectError extends LabError {
  constructor(readonly unknown: readonly { field: string; name: string; closest: string | null }[], known: readonly string[]) {
    const list = unknown.map((u) => `${u.field}: ${JSON.stringify(u.name)} is not a subject of the loaded questions${u.closest ? ` (did you mean ${JSON.stringify(u.closest)}?)` : ''}`);
    super(
      'unknown-subject',
      `The configuration names ${unknown.length === 1 ? 'a subject' : 'subjects'} the questions do not have:\n- ${list.join('\n- ')}`,
      `Use the subject names of the loaded questions (${known.slice(0, 12).join(', ')}${known.length > 12 ? `, … ${known.length} in all` : ''}).`,
    );
  }
}

/** A condition of the intervention that cannot be built at the requested size. */
export class ConditionTooSmallError extends LabError {
  constructor(
    readonly condition: string,
    readonly counts: { known: number; unknown: number; requested?: number },
    advice: string,
  ) {
    const req = counts.requested === undefined ? '' : `, ${counts.requested} requested`;
    super(
      'condition-too-small',
      `Cannot build the ${condition} dataset: the probe found ${counts.known} known and ${counts.unknown} unknown questions${req}.`,
      advice,
    );
  }
}

export class TokenizerLetterError extends LabError {
  constructor(letter: string, context: string, ids: readonly number[]) {
    super(
      'letter-not-one-token',
      `The tokenizer spells ${JSON.stringify(letter)} after ${JSON.stringify(context.slice(-20))} as ${ids.length} tokens (${ids.join(', ')}), not one.`,
      'Letter scoring needs each option letter to be a single token; use continuation scoring for this model.',
    );
  }
}

export class ConfigError extends LabError {
  constructor(
    what: string,
    readonly issues: readonly string[],
  ) {
    super('invalid-config', `The ${what} is not valid:\n- ${issues.join('\n- ')}`, 'Fix the fields listed above and try again.');
  }
}

export class TrainingDivergedError extends LabError {
  constructor(
    readonly runId: string,
    readonly step: number | undefined,
    detail: string,
  ) {
    super(
      'training-diverged',
      `Run ${runId} stopped: the loss or a gradient became non-finite${step === undefined ? '' : ` at step ${step}`} (${detail}).`,
      'Lower the learning rate or enable gradient clipping. Checkpoints already stored are kept; the run can resume from the last one.',
    );
  }
}
