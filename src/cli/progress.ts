/** The experiment's progress as a file (`<out>/progress.json`): a cut-off run resumes from its finished stages. */
import fs from 'node:fs';
import path from 'node:path';
import { LabError } from '../lab/errors';
import type { ExperimentProgress, ProgressStore } from '../lab/experiment';
import type { ProbeResult } from '../lab/probe';

export class FileProgressStore implements ProgressStore {
  /** `fresh`: ignore what is stored (`--fresh`); it is replaced as the run advances. */
  /** `onWarning`: told when a damaged file is set aside (the CLI prints it). */
  constructor(
    readonly file: string,
    private readonly opts: { fresh?: boolean; onWarning?(message: string): void } = {},
  ) {}

  async load(): Promise<ExperimentProgress | undefined> {
    if (this.opts.fresh || !fs.existsSync(this.file)) return undefined;
    let why: string;
    try {
      const p = JSON.parse(fs.readFileSync(this.file, 'utf8')) as ExperimentProgress;
      if (p && typeof p === 'object' && typeof p.fingerprint === 'string' && Array.isArray(p.runs)) return p;
      why = 'it is not a progress record';
    } catch (e) {
      why = (e as Error).message;
    }
    // A damaged file is not trusted, and not dropped without a word: it is kept aside for a look, and the
    // experiment's stages run again (each run's checkpoint still resumes its training, losses included).
    const aside = `${this.file}.damaged`;
    fs.renameSync(this.file, aside);
    this.opts.onWarning?.(`${this.file} is damaged (${why}); it was moved to ${aside}, and the finished stages are computed again (training resumes from the checkpoints).`);
    return undefined;
  }

  async save(p: ExperimentProgress): Promise<void> {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    // Write then rename: a crash never leaves half a file, and a failed write leaves no temporary file behind.
    const tmp = `${this.file}.tmp`;
    try {
      fs.writeFileSync(tmp, JSON.stringify(p));
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      const code = (e as { code?: string }).code;
      if (code === 'ENOSPC' || code === 'EDQUOT') {
        throw new LabError(
          'storage-full',
          `The disk is full: could not write ${this.file} (the experiment's progress); the previous progress file is intact.`,
          `Free space on the disk holding ${path.dirname(this.file)} (old runs' checkpoints folders can go), then run the same command again to resume.`,
        );
      }
      throw new LabError('write-failed', `Could not write ${this.file} (${code ?? (e as Error).message}).`, `Check that ${path.dirname(this.file)} is a writable folder, then run the same command again to resume.`);
    }
    fs.renameSync(tmp, this.file);
  }
}

/**
 * probe.json: every probed question with its option probabilities, belief, confidence and label; with SliCK
 * (config probe.slick) also its category, greedy-right share, exact sampled-right chance and prompt count.
 */
export function probeRecords(p: ProbeResult) {
  return p.items.map((i) => ({
    id: i.id,
    subject: i.subject,
    method: p.settings.method,
    probs: i.probs,
    pred: i.pred,
    confidence: i.confidence,
    label: i.status,
    ...(i.slick ? { category: i.slick.category, greedyRight: i.slick.greedyRight, sampledRight: i.slick.sampledRight, prompts: i.slick.prompts } : {}),
  }));
}
