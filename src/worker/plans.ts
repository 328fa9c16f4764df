/**
 * Pre-registered plans in the browser: frozen with the lab's makePlan (src/lab/plan.ts) — the CLI's
 * `ift-lab preregister` — or read from a plan.json with its parsePlan, and kept in the store's `plans`
 * collection under the plan's hash. The plan.json text is what is kept: every run under it reads it again
 * through parsePlan, so a record edited in the store is refused like an edited file.
 */
import { LabError, parseJsonText } from '../lab/errors';
import { parsePlan, planHash, type Plan } from '../lab/plan';
import type { Store } from '../store/types';
import { checkFileBytes } from '../util/file-limits';
import type { PlanInfo, PlanRecord } from './protocol';

/** What the pages show of a plan (and its text, for the download). */
export function planInfo(plan: Plan, hash: string, json: string, source: PlanInfo['source']): PlanInfo {
  const p = plan.primary;
  return {
    planId: hash,
    hash,
    name: plan.name,
    createdAt: plan.createdAt,
    configHash: plan.configHash,
    seeds: [...plan.seeds],
    primary: `${p.id}: ${p.measure}, ${p.set === 'pooled' ? 'HOMO, ID and OOD pooled' : p.set.toUpperCase()}, ${p.protocol} protocol`,
    secondary: plan.secondary.map((e) => e.id),
    alpha: plan.alpha,
    decisionRule: plan.decisionRule,
    fitArm: plan.fitArm ? { ...plan.fitArm } : null,
    notes: [...plan.notes],
    source,
    json,
  };
}

/** The plan.json text exactly as the CLI writes it. */
export const planJson = (plan: Plan): string => JSON.stringify(plan, null, 1) + '\n';

/** Keeps a plan (a plan already kept under the same hash is the same plan: kept once). */
export async function storePlan(store: Store, plan: Plan, source: PlanInfo['source'], json = planJson(plan)): Promise<PlanInfo> {
  const hash = await planHash(plan);
  const kept = await store.get<PlanRecord & { [k: string]: unknown }>('plans', hash);
  if (kept) return kept.info;
  const info = planInfo(plan, hash, json, source);
  await store.put('plans', { id: hash, createdAt: Date.now(), kind: 'plan', info });
  return info;
}

/** Reads a plan.json the student chose: its size, its JSON, then the lab's checks (shape, not edited). */
export async function readPlanText(filename: string, text: string): Promise<Plan> {
  checkFileBytes(filename, new TextEncoder().encode(text).length, 'planBytes');
  return parsePlan(parseJsonText(filename, text, 'Choose the plan.json that `ift-lab preregister` wrote, or that IFT Lab downloaded, unedited.'));
}

/**
 * Imports a plan.json: checked, then kept. `expectHash`: the hash a result names (a share link's plan), which
 * the plan must have — else it is not the plan that result ran under, and it is not kept.
 */
export async function importPlan(store: Store, filename: string, text: string, expectHash?: string): Promise<PlanInfo> {
  const plan = await readPlanText(filename, text);
  if (expectHash !== undefined) {
    const hash = await planHash(plan);
    if (hash !== expectHash) {
      throw new LabError('plan-not-the-results', `${filename} hashes to ${hash.slice(0, 12)}…, not the ${expectHash.slice(0, 12)}… the result names: it is not the plan the result ran under.`, 'Ask whoever shared the result for its plan.json (the result itself can still be read and imported).');
    }
  }
  return storePlan(store, plan, 'file', text);
}

/** A kept plan, read again through parsePlan; its hash must still be the id it is kept under. */
export async function storedPlan(store: Store, planId: string): Promise<Plan> {
  const rec = await store.get<PlanRecord & { [k: string]: unknown }>('plans', planId);
  if (!rec || rec.kind !== 'plan' || typeof rec.info?.json !== 'string') {
    throw new LabError('no-plan', `No plan ${planId.slice(0, 12)}… is kept in this browser.`, 'Register the plan again on the Train page, or import its plan.json.');
  }
  const plan = await readPlanText('the kept plan', rec.info.json);
  const hash = await planHash(plan);
  if (hash !== planId) {
    throw new LabError('plan-tampered', `The kept plan hashes to ${hash.slice(0, 12)}…, not the ${planId.slice(0, 12)}… it was kept under: it was changed after it was frozen.`, 'Register a new plan before the run.');
  }
  return plan;
}
