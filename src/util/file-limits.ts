/**
 * The largest file of each kind the lab reads, checked against the file's size before a byte is read (a
 * browser tab that reads a 700 MB file into a string dies; so does Node). The CLI and the pages share them.
 */
import { AdvisedError } from './errors';

export const FILE_LIMITS = {
  /** A question file (all of MMLU's CSV release together is ~8 MB). */
  questionBytes: 32 * 2 ** 20,
  /** General instruction data (Alpaca's 52k examples are 22 MB). */
  generalBytes: 256 * 2 ** 20,
  /** A results export or a recipe's results.json. */
  resultsBytes: 16_000_000,
  /** A pre-registered plan.json (a plan is a few kB: its configuration, seeds and endpoints). */
  planBytes: 2 ** 20,
  /** An adapter (zip or safetensors): a rank-256 adapter of a 1.5B model is ~1.2 GB. */
  adapterBytes: 2 * 2 ** 30,
} as const;

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** Throws, naming the file and both sizes, when `size` exceeds the limit. */
export function checkFileBytes(name: string, size: number, limit: keyof typeof FILE_LIMITS): void {
  const max = FILE_LIMITS[limit];
  if (size > max) {
    throw new AdvisedError('file-too-large', `${name} is ${mib(size)}; the limit for this kind of file is ${mib(max)}.`, 'Split the file, or keep only the part you need.');
  }
}
