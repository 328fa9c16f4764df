/**
 * A small deterministic language model with a planted letter-position habit, behind the lab's LabModel port.
 * It reads the last question of its prompt (options as `A. …` lines, the paper's layout or any layout that
 * writes `X. option` lines) and puts its next-token mass on the four candidate letters:
 *
 *   logit(letter at position i) = letterBias[i] + prefer(option i's text)
 *
 * so its letter answers mix a habit of position with a preference for content. Continuations (cloze) score
 * `prefer(text)` alone: no letter, no habit. Every call is recorded for the tests.
 */
import type { AdapterRef, AdapterState, ContinuationRequest, GenerateOptions, LabModel, LabTokenizer, NextTokenRequest, TrainExample } from '../../src/lab/model';

export interface PlantedOptions {
  /** Added to the logit of the letter at each position, whatever it says (e.g. [3, 0, 0, 0]: "answer A"). */
  letterBias: readonly [number, number, number, number];
  /** The model's taste for an option's text. */
  prefer(text: string): number;
}

export class PlantedBiasModel implements LabModel {
  readonly id = 'test:planted';
  readonly calls: { prefix: number[]; prompts: number[][]; candidates: number[] }[] = [];
  readonly continuations: { prompt: number[]; continuation: number[] }[] = [];

  constructor(
    readonly tokenizer: LabTokenizer,
    private readonly o: PlantedOptions,
  ) {}

  /** The option texts of the last question in `text`, in position order. */
  options(text: string): string[] {
    const found: string[] = [];
    for (const l of ['A', 'B', 'C', 'D']) {
      const at = text.lastIndexOf(`\n${l}. `);
      if (at < 0) throw new Error(`planted model: no option ${l} in the prompt`);
      found.push(text.slice(at + 4).split('\n')[0]);
    }
    return found;
  }

  async nextTokenLogProbs(req: NextTokenRequest): Promise<Float32Array[]> {
    const prefix = [...(req.prefix ?? [])];
    this.calls.push({ prefix, prompts: req.prompts.map((p) => [...p]), candidates: [...req.candidates] });
    return req.prompts.map((p) => {
      const opts = this.options(this.tokenizer.decode([...prefix, ...p]));
      const logits = opts.map((t, i) => this.o.letterBias[i] + this.o.prefer(t));
      const m = Math.max(...logits);
      const z = Math.log(logits.reduce((a, x) => a + Math.exp(x - m), 0)) + m;
      return Float32Array.from(logits, (x) => x - z);
    });
  }

  async continuationLogProbs(req: ContinuationRequest): Promise<number[]> {
    return req.prompts.map((p, i) => {
      this.continuations.push({ prompt: [...p], continuation: [...req.continuations[i]] });
      return this.o.prefer(this.tokenizer.decode(req.continuations[i]).trim()) - 10;
    });
  }

  async generate(_prompt: readonly number[], _opts: GenerateOptions): Promise<number[]> {
    return this.tokenizer.encode(' Because.');
  }

  async train(_examples: readonly TrainExample[]): Promise<AdapterState> {
    throw new Error('planted model: not trainable');
  }

  async loadAdapter(_state: AdapterState): Promise<AdapterRef> {
    throw new Error('planted model: no adapters');
  }

  unloadAdapter(_ref: AdapterRef): void {}
}
