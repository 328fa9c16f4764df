/** The experiment's progress as a file (`<out>/progress.json`): a cut-off run resumes from its finished stages. */
import fs from 'node:fs';
import path from 'node:path';
import type { ExperimentProgress, ProgressStore } from '../lab/experiment';
import type { ProbeResult } from '../lab/probe';

export class FileProgressStore implements ProgressStore {
  /** `fresh`: ignore what is stored (`--fresh`); it is replaced as the run advances. */
  constructor(
    readonly file: string,
    private readonly opts: { fresh?: boolean } = {},
  ) {}

  async load(): Promise<ExperimentProgress | undefined> {
    if (this.opts.fresh || !fs.existsSync(this.file)) return undefined;
    try {
      return JSON.parse(fs.readFileSync(this.file, 'utf8')) as ExperimentProgress;
    } catch {
      // A damaged file is not trusted: the experiment starts again (checkpoints still save the training).
      return undefined;
    }
  }

  async save(p: ExperimentProgress): Promise<void> {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    // Write then rename: a crash never leaves half a file.
    fs.writeFileSync(`${this.file}.tmp`, JSON.stringify(p));
    fs.renameSync(`${this.file}.tmp`, this.file);
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
