// A confirmatory result carries its plan.json in the share link: it arrives byte for byte (the link's rounding
// of numbers never touches it), and a malformed or hostile plan gives the link's typed error, never a throw.
import { deflateSync, strToU8 } from 'fflate';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makePlan, parsePlan, planHash } from '../../../src/lab/plan';
import { decodeShare, encodeShare, LIMITS, type SharedResult } from '../../../src/share';
import { toBase64url } from '../../../src/share/base64url';
import { planJson } from '../../../src/worker/plans';
import { exampleResult } from '../../fixtures/share-example';
import { repoRoot } from '../../helpers/paths';

const committed = JSON.parse(readFileSync(path.join(repoRoot, 'docs/results/toy-world-oneclick-debiased-e15/config.json'), 'utf8'));
const pack = (value: unknown) => toBase64url(deflateSync(strToU8(JSON.stringify(value))));

async function confirmed(o: { fitArm?: boolean; arm?: 'main' | 'fit' } = {}): Promise<{ result: SharedResult; json: string }> {
  // A learning rate the link's 4-decimal rounding would turn into 0 if the plan travelled as numbers.
  const plan = await makePlan({ ...committed, name: 'linked', seeds: [1, 2, 3, 4, 5, 6], training: { ...committed.training, learningRate: 2e-5 }, evaluation: { batchSize: 8 } }, { fitArm: o.fitArm });
  const json = planJson(plan);
  const arm = o.arm ?? 'main';
  const result: SharedResult = { ...exampleResult(), status: 'confirmatory', plan: { hash: await planHash(plan), configHash: arm === 'fit' ? plan.fitArm!.configHash : plan.configHash, arm, createdAt: plan.createdAt, json } };
  return { result, json };
}

const issuesOf = (data: string) => {
  const r = decodeShare(data);
  return r.ok ? null : { code: r.error.code, issues: r.error.issues.join('\n') };
};

describe('the plan in a share link', () => {
  it('travels as its plan.json text, byte for byte, and is the plan the lab reads (its hash the one the result names)', async () => {
    for (const o of [{}, { fitArm: true, arm: 'fit' as const }]) {
      const { result, json } = await confirmed(o);
      const r = decodeShare(encodeShare(result));
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.result.plan!.json).toBe(json);
      const plan = await parsePlan(JSON.parse(r.result.plan!.json!));
      expect(plan.config.training.learningRate).toBe(2e-5);
      expect(await planHash(plan)).toBe(result.plan!.hash);
    }
  });

  it('a malformed or hostile plan is refused with the field named, never thrown', async () => {
    const { result, json } = await confirmed();
    const doc = JSON.parse(json);
    const withJson = (text: string) => pack({ ...result, plan: { ...result.plan, json: text } });
    const cases: [string, RegExp][] = [
      [withJson('{"schema": '), /plan\.json: not valid JSON/],
      [withJson('[]'), /plan\.json/],
      [withJson(JSON.stringify({ ...doc, schema: 'ift-lab/plan@9' })), /plan\.json\.schema/],
      [withJson(JSON.stringify({ ...doc, extra: 1 })), /plan\.json/],
      [withJson(JSON.stringify({ ...doc, alpha: 2 })), /plan\.json\.alpha/],
      [withJson(JSON.stringify({ ...doc, seeds: Array.from({ length: 1000 }, (_, i) => i) })), /plan\.json\.seeds/],
      [withJson(JSON.stringify({ ...doc, primary: { ...doc.primary, id: 'x'.repeat(10_000) } })), /plan\.json\.primary\.id/],
      [withJson(JSON.stringify({ ...doc, config: JSON.parse('{"a":'.repeat(50) + '1' + '}'.repeat(50)) })), /plan\.json\.config: nested at most 8 levels/],
      // Another plan's text under this result's hashes.
      [withJson(JSON.stringify({ ...doc, createdAt: '2020-01-01T00:00:00.000Z' })), /not the date of the plan the result names/],
      [withJson(JSON.stringify({ ...doc, configHash: 'c'.repeat(64) })), /not the configuration of the plan the result names \(its main arm\)/],
      [withJson('x'.repeat(LIMITS.planJson + 1)), /plan\.json: at most 32000 characters/],
      [pack({ ...result, plan: { ...result.plan, json: 42 } }), /plan\.json/],
    ];
    for (const [data, why] of cases) {
      const got = issuesOf(data);
      expect(got?.code, String(why)).toBe('invalid');
      expect(got?.issues, String(why)).toMatch(why);
    }
    // A fit-arm result whose plan has no fit arm.
    const fit = pack({ ...result, plan: { ...result.plan, arm: 'fit' } });
    expect(issuesOf(fit)?.issues).toMatch(/its stop-at-fit arm/);
  });

  it('a link without a plan.json (made before the browser carried it) still reads', async () => {
    const { result } = await confirmed();
    const { json: _json, ...hashes } = result.plan!;
    const r = decodeShare(encodeShare({ ...result, plan: hashes }));
    expect(r.ok && r.result.plan).toEqual(hashes);
  });
});
