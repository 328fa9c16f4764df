/**
 * `ift-lab`: the lab from the command line.
 *   ift-lab validate <questions file>           row-level report; exit 1 if any row is bad
 *   ift-lab experiment <config.json> [--out d] [--resume|--fresh] [--no-estimate]
 *                                               run an experiment grid; results, manifest, report, recipe.
 *     --out defaults to ift-lab-out/<name>-<config hash>, so another configuration never meets this one's
 *     checkpoints; a checkpoint is resumed only when its run's fingerprint matches (else: fresh, and why).
 *   ift-lab preregister <config.json> --out <plan.json> [--fit-arm]
 *                                               freeze a plan (config hash, seeds, endpoints, α, decision rule)
 *   ift-lab experiment <config.json> --plan <plan.json>
 *                                               refuses a config or seeds that differ from the plan; result.json
 *                                               then says "status": "confirmatory" (every other run: "exploratory")
 *   ift-lab estimate <config.json>              expected time per stage on this device (src/cli/estimate.ts)
 *   ift-lab import-results <dir> [--out file]   a recipe's results.json → lab results (History import, share links)
 *   ift-lab export-adapter <adapter dir> [--out file.zip]
 *                                               a PEFT folder (e.g. <out>/adapters/<run>) as one zip, checked first
 * Exit codes: 0 ok, 1 bad input or a failed run, 2 usage.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pkg from '../../package.json';
import { LabError, parseJsonText } from '../lab/errors';
import { datasetFileStem, runExperiment, splitsOf, type ExperimentConfig, type ExperimentEvent } from '../lab/experiment';
import { checkAgainstPool } from '../lab/experiment-config';
import { armOf, configHash, fitArmConfig, makePlan, parsePlan, PlanMismatchError, type Plan } from '../lab/plan';
import { stableJson } from '../lab/fingerprint';
import { sha256Hex } from '../lab/hash';
import type { ResumePolicy } from '../lab/train';
import { toJsonl } from '../lab/intervene';
import { exportRecipe } from '../lab/recipe';
import { parsePeftConfig } from '../model/lora';
import { peftFromFiles, zipPeftFolder } from '../model/peft-zip';
import { SafetensorsFile, sourceFromBytes } from '../model/safetensors';
import { exportJson, IMPORT_LIMITS } from '../share/records';
import { readBounded, readJsonText } from './files';
import { DEFAULT_LIMITS, parseQuestionFile } from '../lab/questions';
import { recipeToShared } from '../share/recipe-results';
import { inputHashes, loadBank, loadGeneral } from './bank';
import { FileCheckpointSink } from './checkpoints';
import { createModel, modelEnv, peftFiles } from './models';
import { DEVICE_CHOICES, type DeviceChoice } from '../engine/backend';
import { estimateBeforeRun, estimateCommand, readConfig, withDevice } from './estimate';
import { FileProgressStore, probeRecords } from './progress';
import { lockOutputFolder, type FolderLock } from './lock';

export interface Io {
  out(s: string): void;
  err(s: string): void;
}

const processIo: Io = { out: (s) => process.stdout.write(s + '\n'), err: (s) => process.stderr.write(s + '\n') };

const USAGE = `Usage:
  ift-lab validate <questions.csv|.jsonl|.parquet> [--subject <name>] [--subject-field <path>]
    --subject        the subject of rows that name none (header-less MMLU rows: default the file name)
    --subject-field  JSONL: where each row's subject is, e.g. raw.labels (Xiezhi) or meta.subject
  ift-lab preregister <config.json> --out <plan.json> [--fit-arm]
    freezes a plan before the run: the configuration and its hash, the seeds, the primary endpoint (Harmonious −
    Incompatible, pooled over the test sets, paper protocol), the secondary family, α = 0.05 and the decision rule
    --fit-arm      add the stop-at-fit sensitivity arm; its configuration is written beside the plan (<plan>.fit-config.json)
  ift-lab experiment <config.json> [--plan <plan.json>] [--out <dir>] [--resume | --fresh] [--no-estimate] [--device auto|webgpu|cpu]
    --plan         run under a pre-registered plan: a configuration (seeds included) that is not the plan's, or its
                   fit arm's, is refused; the result is then confirmatory (without --plan: exploratory)
    --out          default: ift-lab-out/<config name>-<config hash>
    --resume       resume every run from its checkpoint, and stop if one was written by a different configuration
    --fresh        ignore (and replace) stored checkpoints and progress
    default        resume checkpoints of the same configuration; start the others fresh, saying what changed
    --no-estimate  skip the time estimate (a few timed runs on this device) before the experiment
    --device       where the engine runs (default: the configuration's "device", else auto: a hardware GPU,
                   otherwise the CPU backend; a software GPU only where it measures faster than the CPU)
  ift-lab estimate <config.json> [--device auto|webgpu|cpu]
  ift-lab import-results <recipe runs dir | results.json> [--out <lab-results.json>]
  ift-lab export-adapter <adapter folder, e.g. <out>/adapters/<run>> [--out <file.zip>]
    zips a PEFT adapter folder (adapter_config.json + adapter_model.safetensors) as the Model page imports it
  Models: a Hub id is fetched from HF_ENDPOINT (or IFT_LAB_HUB_URL), default https://huggingface.co; HF_TOKEN is sent.`;

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

async function validate(file: string | undefined, io: Io, subject: { defaultSubject?: string; subjectField?: string } = {}): Promise<number> {
  if (!file) {
    io.err(USAGE);
    return 2;
  }
  try {
    // Bytes, not text: the reader tells UTF-8 from UTF-16 and Latin-1 and says which it found. The size is
    // checked before reading (a 700 MB file never reaches the decoder).
    const parsed = await parseQuestionFile(path.basename(file), readBounded(file, DEFAULT_LIMITS.maxBytes, 'The questions file'), subject);
    for (const w of parsed.warnings ?? []) io.out(`${file}: warning: ${w}`);
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
    else if (e.type === 'stale-progress') io.err(`[progress] not reusing the stored progress (probe, datasets, results): ${e.changes.join('; ')}. Computing it again.`);
    else if (e.type === 'probe') {
      io.err(`[probe] accuracy ${(100 * e.accuracy).toFixed(1)} %: ${e.counts.known} known, ${e.counts.unknown} unknown, ${e.counts.discarded} discarded`);
      for (const w of e.warnings) io.err(`[probe] warning: ${w}`);
    } else if (e.type === 'run-start') io.err(`[run ${e.index + 1}/${e.total}] ${e.run.runId}`);
    else if (e.type === 'train' && e.event.type === 'stale-checkpoint') {
      io.err(`  not resuming the stored checkpoint: ${e.event.changes.join('; ')}. Training from the start.`);
    } else if (e.type === 'train' && e.event.type === 'start' && e.event.resumedFromStep !== null) {
      io.err(`  resuming from step ${e.event.resumedFromStep} of ${e.event.totalSteps} (same configuration, data, weights and engine)`);
    }
    else if (e.type === 'train' && e.event.type === 'checkpoint') io.err(`  epoch ${e.event.epoch + 1} checkpointed (step ${e.event.step})`);
    else if (e.type === 'share-train' && e.event.type === 'start') io.err(`[run ${e.index + 1}/${e.total}] ${e.run.runId}`);
    else if (e.type === 'share-run-done') {
      const ep = e.run.epochs;
      const cat = (c: 'unknown' | 'highlyKnown') => (ep.at(-1)!.fit.byCategory[c] === undefined ? '—' : `${(100 * ep.at(-1)!.fit.byCategory[c]!).toFixed(0)} %`);
      io.err(`  done: ${e.run.train.steps} steps, ${ep.length} epochs evaluated; early stop at epoch ${e.run.earlyStopEpoch} (dev ${(100 * ep[e.run.earlyStopEpoch - 1].dev).toFixed(1)} %); last-epoch fit: highlyKnown ${cat('highlyKnown')}, unknown ${cat('unknown')}`);
    } else if (e.type === 'run-done') {
      const f = e.run.fit;
      io.err(`  done: ${e.run.train.steps} steps, final loss ${e.run.train.finalLoss?.toFixed(4) ?? '—'}, fit ${(100 * f.before).toFixed(0)} % → ${(100 * f.after).toFixed(0)} %${f.underTrained ? ` — under-trained: ${f.reason}` : ''}`);
    }
  };
}

/** The default output folder: the config's name and a hash of the whole parsed config. */
export async function defaultOutDir(config: ExperimentConfig): Promise<string> {
  const slug = config.name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+/, '').slice(0, 80) || 'experiment';
  return path.join('ift-lab-out', `${slug}-${(await configHash(config)).slice(0, 12)}`);
}

/** Reads and checks a plan file (its shape, and that it was not edited after it was frozen). */
export async function readPlan(file: string): Promise<Plan> {
  if (!fs.existsSync(file)) throw new LabError('not-found', `${file} does not exist.`, 'Pass the plan that `ift-lab preregister` wrote.');
  return parsePlan(parseJsonText(file, fs.readFileSync(file, 'utf8'), 'Pass the plan that `ift-lab preregister` wrote, unedited.'));
}

async function preregister(file: string | undefined, outFile: string | undefined, fitArm: boolean, io: Io): Promise<number> {
  if (!file || !outFile) {
    io.err(`preregister needs a configuration and --out <plan.json>.\n${USAGE}`);
    return 2;
  }
  try {
    const config = readConfig(file);
    if (fs.existsSync(outFile)) throw new LabError('plan-exists', `${outFile} exists: a plan is frozen once.`, 'Choose another file name for a new plan; keep the old one with the results it governs.');
    const plan = await makePlan(config, { fitArm });
    fs.mkdirSync(path.dirname(path.resolve(outFile)), { recursive: true });
    fs.writeFileSync(outFile, JSON.stringify(plan, null, 1) + '\n');
    io.out(`${outFile}: plan for ${plan.name}, configuration ${plan.configHash.slice(0, 12)}…, seeds ${plan.seeds.join(', ')}, primary ${plan.primary.id}, α = ${plan.alpha}.`);
    if (plan.fitArm) {
      const fitFile = outFile.replace(/\.json$/i, '') + '.fit-config.json';
      fs.writeFileSync(fitFile, JSON.stringify(fitArmConfig(plan.config, plan.fitArm), null, 1) + '\n');
      io.out(`${fitFile}: the stop-at-fit arm (fit ≥ ${plan.fitArm.threshold}, at most ${plan.fitArm.maxEpochs} epochs), configuration ${plan.fitArm.configHash.slice(0, 12)}….`);
    }
    for (const n of plan.notes) io.err(`note: ${n}`);
    return 0;
  } catch (e) {
    return fail(io, e);
  }
}

async function experiment(file: string | undefined, outArg: string | undefined, resume: ResumePolicy, io: Io, withEstimate = true, planFile?: string, device?: DeviceChoice): Promise<number> {
  if (!file) {
    io.err(USAGE);
    return 2;
  }
  let lock: FolderLock | undefined;
  const onExit = () => lock?.release();
  process.once('exit', onExit);
  try {
    const config = withDevice(readConfig(file), device);
    // The plan is checked before anything is loaded or trained.
    const plan = planFile ? await readPlan(planFile) : null;
    if (plan) {
      const arm = await armOf(plan, config);
      if (arm.arm === null) throw new PlanMismatchError(arm.differences);
      io.err(`[plan] confirmatory run under ${planFile} (${arm.arm === 'fit' ? 'the stop-at-fit arm' : 'the main arm'})`);
    } else io.err('[plan] none: this run is exploratory (register a plan with ift-lab preregister before a confirmatory run)');
    const outDir = outArg ?? (await defaultOutDir(config));
    io.err(`[out] ${outDir}`);
    // Before anything is loaded: a file in the way, or another run writing the same folder, stops here.
    lock = lockOutputFolder(outDir, (m) => io.err(`[out] ${m}`));
    const bank = await loadBank(config);
    io.err(`[load] ${bank.pool.length} questions, ${bank.fewShot.length} few-shot examples`);
    checkAgainstPool(config, bank.pool.length);
    // Split before loading the model: an unknown subject name (a typo) stops here, in a second.
    splitsOf(config, bank);
    const general = loadGeneral(config, (w) => io.err(`[load] warning: ${w}`));
    // Hashed after loading (which said clearly if a file is missing): an edited file is never answered from stored progress.
    const inputs = inputHashes(config);
    const inputsHash = await sha256Hex(stableJson(inputs));
    const model = await createModel(config, (s) => io.err(`[model] ${s}`));
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
        sink: new FileCheckpointSink(path.join(outDir, 'checkpoints'), { identity: { weightsHash: env.weightsHash, engineVersion: pkg.version, inputs: inputsHash }, resume }),
        progress: new FileProgressStore(path.join(outDir, 'progress.json'), { fresh: resume === 'never', onWarning: (m) => io.err(`[progress] warning: ${m}`) }),
        onAdapter: (run, state) => {
          const dir = path.join(outDir, 'adapters', run.runId);
          fs.mkdirSync(dir, { recursive: true });
          for (const [name, bytes] of Object.entries(peftFiles(model, state, config.model.id))) fs.writeFileSync(path.join(dir, name), bytes);
        },
        signal: controller.signal,
        onEvent: (e) => {
          est.clock.onEvent(e);
          progress(io)(e);
        },
        env: { engineVersion: pkg.version, weightsHash: env.weightsHash, device: env.device, inputs, ...est.env },
        plan,
      });
      fs.mkdirSync(path.join(outDir, 'datasets'), { recursive: true });
      fs.writeFileSync(path.join(outDir, 'result.json'), JSON.stringify(out.result, null, 1));
      fs.writeFileSync(path.join(outDir, 'probe.json'), JSON.stringify(probeRecords(out.result.probe), null, 1));
      fs.writeFileSync(path.join(outDir, 'manifest.json'), JSON.stringify(out.manifest, null, 2));
      fs.writeFileSync(path.join(outDir, 'report.md'), out.markdown);
      for (const d of out.datasets) fs.writeFileSync(path.join(outDir, 'datasets', `${datasetFileStem(d, config)}.jsonl`), toJsonl(d));
      // The recipe trains Ren's grid; the Unknown-share design has none to export yet.
      const recipe = config.unknownShare ? {} : exportRecipe({
        config,
        datasets: out.datasets,
        tests: { homo: out.splits.homo, id: out.splits.id, ood: out.splits.ood },
        fewShot: bank.fewShot,
        probe: { counts: out.result.probe.counts },
      });
      for (const [name, text] of Object.entries(recipe)) {
        const p = path.join(outDir, 'recipe', name);
        fs.mkdirSync(path.dirname(p), { recursive: true });
        fs.writeFileSync(p, text);
      }
      io.out(out.markdown);
      est.report(out.manifest.timing);
      io.err(`Wrote ${outDir}/result.json, probe.json, manifest.json, report.md, ${config.unknownShare ? 'adapters/' : 'datasets/, adapters/ and recipe/'}.`);
      return 0;
    } finally {
      process.off('SIGINT', onSigint);
    }
  } catch (e) {
    return fail(io, e);
  } finally {
    lock?.release();
    process.off('exit', onExit);
  }
}

/** True when two paths name the same file (the same path, or one file through a link). */
function sameFile(a: string, b: string): boolean {
  if (path.resolve(a) === path.resolve(b)) return true;
  try {
    const x = fs.statSync(a);
    const y = fs.statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/** Refuses an output path that is one of the command's inputs: no command writes over what it reads. */
function notAnInput(target: string, inputs: readonly string[], flag = '--out'): void {
  const hit = inputs.find((i) => sameFile(target, i));
  if (hit) throw new LabError('output-is-input', `${flag} ${target} is the input file ${hit}: writing it would destroy what the command reads.`, `Give ${flag} another file name (or leave ${flag} out for the default).`);
}

/** A recipe's results.json (train.py's output) → an IFT Lab export file the History page imports. */
function importResults(input: string | undefined, outFile: string | undefined, io: Io): number {
  if (!input) {
    io.err(USAGE);
    return 2;
  }
  try {
    const file = fs.existsSync(input) && fs.statSync(input).isDirectory() ? path.join(input, 'results.json') : input;
    if (!fs.existsSync(file)) throw new LabError('not-found', `${file} does not exist.`, "Pass the recipe's output folder (train.py --out, default runs/) or its results.json.");
    const text = readJsonText(file, IMPORT_LIMITS.fileChars, 'The results file');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      if (/(^|[\s:[,])-?(NaN|Infinity)\b/.test(text)) {
        throw new LabError('invalid-json', `${file} holds NaN or Infinity, which JSON does not allow (${(e as Error).message}).`, 'A measure became non-finite in the recipe: check its log for a diverged run, or replace NaN with null for an empty group.');
      }
      throw new LabError('invalid-json', `${file} is not valid JSON (${(e as Error).message}).`, 'Was train.py stopped while writing it? Run it again: finished runs are kept.');
    }
    const r = recipeToShared(json);
    for (const i of r.issues) io.err(`${r.results.length ? 'warning' : 'error'}: ${i}`);
    if (r.results.length === 0) {
      io.err("what to do: pass the results.json that the recipe's train.py wrote, unedited.");
      return 1;
    }
    const target = outFile ?? path.join(path.dirname(file), 'lab-results.json');
    notAnInput(target, [file]);
    fs.writeFileSync(target, exportJson(r.results));
    for (const x of r.results) io.out(`${x.title}: ${x.conditions.length} condition(s), ${x.manifest.protocol}`);
    io.err(`Wrote ${target}: open IFT Lab's History page and import it (or ${path.basename(file)} itself).`);
    return 0;
  } catch (e) {
    return fail(io, e);
  }
}

/** A PEFT adapter folder → one zip, after checking that its two files are there and readable. */
async function exportAdapter(dir: string | undefined, outFile: string | undefined, io: Io): Promise<number> {
  if (!dir) {
    io.err(USAGE);
    return 2;
  }
  try {
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new LabError('not-found', `${dir} is not a folder.`, 'Pass an adapter folder, e.g. ift-lab-out/<experiment>/adapters/<run>.');
    const files = new Map(fs.readdirSync(dir).filter((f) => f.startsWith('adapter_')).map((f) => [f, new Uint8Array(fs.readFileSync(path.join(dir, f)))] as const));
    const folder = peftFromFiles(files);
    const { config } = parsePeftConfig(folder.config);
    // What the importer refuses is refused here too, before a zip is written: no tensors, non-finite values,
    // a rank that is not the tensors' (r = 64 on rank-2 tensors).
    const st = await SafetensorsFile.open(sourceFromBytes(folder.weights), 'adapter_model.safetensors');
    const tensors = st.tensors.size;
    const problems: string[] = [];
    if (tensors === 0) problems.push('adapter_model.safetensors holds no tensors');
    for (const [name, t] of st.tensors) {
      const rankDim = /lora_A/.test(name) ? t.shape[0] : /lora_B/.test(name) ? t.shape[1] : undefined;
      if (rankDim !== undefined && rankDim !== config.rank) problems.push(`${name} has rank ${rankDim} (shape ${t.shape.join('×')}), but adapter_config.json says r = ${config.rank}`);
      const values = await st.readF32(name);
      let bad = 0;
      for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) bad++;
      if (bad) problems.push(`${name} has ${bad} non-finite value(s) (NaN or ±Infinity)`);
      if (problems.length >= 10) break;
    }
    if (problems.length) {
      throw new LabError('adapter-invalid', `${dir} is not an adapter the lab can import:\n- ${problems.join('\n- ')}`, 'Export the adapter the experiment wrote (ift-lab-out/<experiment>/adapters/<run>) unedited; a diverged run writes no adapter.');
    }
    const name = path.basename(path.resolve(dir));
    const target = outFile ?? `${path.resolve(dir)}.zip`;
    notAnInput(target, [...files.keys()].map((f) => path.join(dir, f)));
    if (fs.existsSync(target) && fs.statSync(target).isDirectory()) throw new LabError('output-is-folder', `--out ${target} is a folder.`, 'Give --out a file name ending in .zip.');
    fs.writeFileSync(target, zipPeftFolder(name, Object.fromEntries(files)));
    io.out(`${target}: LoRA r=${config.rank}, alpha=${config.alpha} on ${config.targets.join(', ')}, ${tensors} tensors`);
    return 0;
  } catch (e) {
    return fail(io, e);
  }
}

export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, options: {
        out: { type: 'string', short: 'o' },
        resume: { type: 'boolean' },
        fresh: { type: 'boolean' },
        subject: { type: 'string' },
        'subject-field': { type: 'string' },
        'no-estimate': { type: 'boolean' },
        device: { type: 'string' },
        plan: { type: 'string' },
        'fit-arm': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
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
  const device = parsed.values.device;
  if (device !== undefined && !(DEVICE_CHOICES as readonly string[]).includes(device)) {
    io.err(`--device takes ${DEVICE_CHOICES.join(', ')} (got ${JSON.stringify(device)}).\n${USAGE}`);
    return 2;
  }
  const choice = device as DeviceChoice | undefined;
  if (command === 'validate') return validate(arg, io, { defaultSubject: parsed.values.subject, subjectField: parsed.values['subject-field'] });
  if (command === 'experiment') {
    if (parsed.values.resume && parsed.values.fresh) {
      io.err(`--resume and --fresh exclude each other.\n${USAGE}`);
      return 2;
    }
    return experiment(arg, parsed.values.out, parsed.values.resume ? 'require' : parsed.values.fresh ? 'never' : 'auto', io, !parsed.values['no-estimate'], parsed.values.plan, choice);
  }
  if (command === 'preregister') return preregister(arg, parsed.values.out, !!parsed.values['fit-arm'], io);
  if (command === 'estimate') return arg ? estimateCommand(arg, io, choice).catch((e) => fail(io, e)) : (io.err(USAGE), 2);
  if (command === 'import-results') return importResults(arg, parsed.values.out, io);
  if (command === 'export-adapter') return exportAdapter(arg, parsed.values.out, io);
  io.err(`Unknown command ${JSON.stringify(command)}.\n${USAGE}`);
  return 2;
}
