/**
 * `ift-lab`: the lab from the command line.
 *   ift-lab validate <questions file>           row-level report; exit 1 if any row is bad
 *   ift-lab experiment <config.json> [--out d]  run an experiment grid; results, manifest, report, recipe
 *   ift-lab estimate <config.json>              expected time per stage on this device (src/cli/estimate.ts)
 * Exit codes: 0 ok, 1 bad input or a failed run, 2 usage.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pkg from '../../package.json';
import { LabError } from '../lab/errors';
import { parseExperimentConfig, runExperiment, type ExperimentEvent } from '../lab/experiment';
import { toJsonl } from '../lab/intervene';
import { parseQuestionFile } from '../lab/questions';
import { exportRecipe } from '../lab/recipe';
import { loadBank, loadGeneral } from './bank';
import { FileCheckpointSink } from './checkpoints';
import { createModel, modelEnv } from './models';
import { estimateBeforeRun, estimateCommand } from './estimate';

export interface Io {
  out(s: string): void;
  err(s: string): void;
}

const processIo: Io = { out: (s) => process.stdout.write(s + '\n'), err: (s) => process.stderr.write(s + '\n') };

const USAGE = `Usage:
  ift-lab validate <questions.csv|.jsonl|.parquet>
  ift-lab experiment <config.json> [--out <dir>] [--no-estimate]
  ift-lab estimate <config.json>`;

function fail(io: Io, e: unknown): number {
  if (e instanceof LabError || (e && typeof e === 'object' && 'advice' in e)) {
    const x = e as LabError;
    io.err(`error: ${x.message}`);
    io.err(`what to do: ${x.advice}`);
  } else {
    io.err(`error: ${e instanceof Error ? e.message : String(e)}`);
  }
  return 1;
}

async function validate(file: string | undefined, io: Io): Promise<number> {
  if (!file) {
    io.err(USAGE);
    return 2;
  }
  try {
    if (!fs.existsSync(file)) throw new LabError('not-found', `${file} does not exist.`, 'Check the path.');
    const data = file.toLowerCase().endsWith('.parquet') ? new Uint8Array(fs.readFileSync(file)).buffer : fs.readFileSync(file, 'utf8');
    const parsed = await parseQuestionFile(path.basename(file), data);
    const subjects = new Set(parsed.questions.map((q) => q.subject));
    if (parsed.errors.length === 0) {
      io.out(`${file}: ${parsed.questions.length} questions, ${subjects.size} subject(s), no problems.`);
      return 0;
    }
    for (const e of parsed.errors) io.out(`${file}:${e.line}: ${e.field}: ${e.reason}`);
    const rows = new Set(parsed.errors.map((e) => e.line)).size;
    io.out(`${file}: ${parsed.errors.length} problem(s) in ${rows} of ${parsed.rows} row(s); ${parsed.questions.length} row(s) are valid.`);
    return 1;
  } catch (e) {
    return fail(io, e);
  }
}

function progress(io: Io): (e: ExperimentEvent) => void {
  return (e) => {
    if (e.type === 'stage') io.err(`[${e.stage}] ${e.message}`);
    else if (e.type === 'probe') {
      io.err(`[probe] accuracy ${(100 * e.accuracy).toFixed(1)} %: ${e.counts.known} known, ${e.counts.unknown} unknown, ${e.counts.discarded} discarded`);
      for (const w of e.warnings) io.err(`[probe] warning: ${w}`);
    } else if (e.type === 'run-start') io.err(`[run ${e.index + 1}/${e.total}] ${e.run.runId}`);
    else if (e.type === 'train' && e.event.type === 'checkpoint') io.err(`  epoch ${e.event.epoch + 1} checkpointed (step ${e.event.step})`);
    else if (e.type === 'run-done') io.err(`  done: ${e.run.train.steps} steps, final loss ${e.run.train.finalLoss?.toFixed(4) ?? '—'}`);
  };
}

async function experiment(file: string | undefined, outDir: string, io: Io, withEstimate = true): Promise<number> {
  if (!file) {
    io.err(USAGE);
    return 2;
  }
  try {
    if (!fs.existsSync(file)) throw new LabError('not-found', `${file} does not exist.`, 'Check the path.');
    let json: unknown;
    try {
      json = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new LabError('invalid-json', `${file} is not valid JSON (${(e as Error).message}).`, 'Fix the syntax; examples/ has valid configurations.');
    }
    const config = parseExperimentConfig(json);
    const bank = await loadBank(config);
    const general = config.general ? loadGeneral(config.general.path) : undefined;
    io.err(`[load] ${bank.pool.length} questions, ${bank.fewShot.length} few-shot examples`);
    const model = await createModel(config);
    const env = await modelEnv(model);
    // Estimated before every run; the manifest sets the estimate against the actual time (manifest.timing).
    const est = await estimateBeforeRun(model, config, bank, io, withEstimate);
    const controller = new AbortController();
    const onSigint = () => {
      io.err('Stopping after the current step; checkpoints are kept (run the same command again to resume).');
      controller.abort();
    };
    process.once('SIGINT', onSigint);
    try {
      const out = await runExperiment(config, {
        model,
        bank,
        general,
        sink: new FileCheckpointSink(path.join(outDir, 'checkpoints')),
        signal: controller.signal,
        onEvent: (e) => {
          est.clock.onEvent(e);
          progress(io)(e);
        },
        env: { engineVersion: pkg.version, weightsHash: env.weightsHash, device: env.device, ...est.env },
      });
      fs.mkdirSync(path.join(outDir, 'datasets'), { recursive: true });
      fs.writeFileSync(path.join(outDir, 'result.json'), JSON.stringify(out.result, null, 1));
      fs.writeFileSync(path.join(outDir, 'manifest.json'), JSON.stringify(out.manifest, null, 2));
      fs.writeFileSync(path.join(outDir, 'report.md'), out.markdown);
      for (const d of out.datasets) fs.writeFileSync(path.join(outDir, 'datasets', `${d.name}.jsonl`), toJsonl(d));
      const recipe = exportRecipe({ config, datasets: out.datasets, tests: { homo: out.splits.homo, id: out.splits.id, ood: out.splits.ood }, fewShot: bank.fewShot });
      for (const [name, text] of Object.entries(recipe)) {
        const p = path.join(outDir, 'recipe', name);
        fs.mkdirSync(path.dirname(p), { recursive: true });
        fs.writeFileSync(p, text);
      }
      io.out(out.markdown);
      est.report(out.manifest.timing);
      io.err(`Wrote ${outDir}/result.json, manifest.json, report.md, datasets/ and recipe/.`);
      return 0;
    } finally {
      process.off('SIGINT', onSigint);
    }
  } catch (e) {
    return fail(io, e);
  }
}

export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, options: { out: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' }, 'no-estimate': { type: 'boolean' } } });
  } catch (e) {
    io.err(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const [command, arg, ...rest] = parsed.positionals;
  if (parsed.values.help || !command) {
    (parsed.values.help ? io.out : io.err)(USAGE);
    return parsed.values.help ? 0 : 2;
  }
  if (rest.length) {
    io.err(`Unexpected argument(s): ${rest.join(' ')}\n${USAGE}`);
    return 2;
  }
  if (command === 'validate') return validate(arg, io);
  if (command === 'experiment') return experiment(arg, parsed.values.out ?? 'ift-lab-out', io, !parsed.values['no-estimate']);
  if (command === 'estimate') return arg ? estimateCommand(arg, io).catch((e) => fail(io, e)) : (io.err(USAGE), 2);
  io.err(`Unknown command ${JSON.stringify(command)}.\n${USAGE}`);
  return 2;
}
