import { deflateSync, strFromU8, strToU8 } from 'fflate';
import { describe, expect, it } from 'vitest';
import { checkResult, compareResults, decodeShare, encodeShare, headlineContrasts, LIMITS, mixtureCurve, parseImport, exportJson, roundForShare, shareUrl, type SharedResult } from '../../../src/share';
import { fromBase64url, toBase64url } from '../../../src/share/base64url';
import { inflateLimited } from '../../../src/share/codec';
import { exampleResult } from '../../fixtures/share-example';

const pack = (value: unknown) => toBase64url(deflateSync(strToU8(typeof value === 'string' ? value : JSON.stringify(value))));
const codeOf = (s: string) => {
  const r = decodeShare(s);
  return r.ok ? 'ok' : r.error.code;
};

describe('share links', () => {
  it('round-trips a realistic 12-condition result (numbers kept to 4 decimals)', () => {
    const x = exampleResult();
    expect(x.conditions).toHaveLength(12);
    const data = encodeShare(x);
    const r = decodeShare(data);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.result).toEqual(roundForShare(x));
    expect(Math.abs(r.result.conditions[0].homo.acc - x.conditions[0].homo.acc)).toBeLessThanOrEqual(5e-5);
    // Encoding a decoded result is stable.
    expect(encodeShare(r.result)).toBe(data);
  });

  it('keeps a realistic result link short', () => {
    const url = shareUrl(exampleResult(), 'https://example.org/ift-lab/#/results');
    const data = url.split('#/share/')[1];
    console.log(`share link: ${data.length} characters of data, ${url.length} in all`);
    expect(url.startsWith('https://example.org/ift-lab/#/share/')).toBe(true);
    expect(data).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(data.length).toBeLessThan(4000);
  });

  it('accepts a whole URL or fragment as input', () => {
    const data = encodeShare(exampleResult());
    expect(codeOf(`https://host/app/#/share/${data}`)).toBe('ok');
    expect(codeOf(`#/share/${data}`)).toBe('ok');
  });

  it('derives the mixture curve, headline contrasts and comparisons', () => {
    const x = exampleResult();
    const curve = mixtureCurve(x);
    expect(curve.map((p) => p.ratio)).toEqual([0, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1]);
    const h = headlineContrasts(x);
    expect(h.map((c) => c.label)).toEqual(['Harmonious − Incompatible', 'Self-aligning − Incompatible', 'Random-wrong − Incompatible']);
    expect(h[0].delta.homo).toBeGreaterThan(0.1);
    const y = structuredClone(x);
    y.conditions[0].homo.acc += 0.05;
    y.conditions.pop();
    const d = compareResults(x, y);
    expect(d[0].delta!.homo).toBeCloseTo(0.05, 10);
    expect(d.at(-1)!.inB).toBe(false);
  });
});

describe('malformed share links give a typed error and never throw', () => {
  const good = () => exampleResult() as unknown as Record<string, any>;
  const cases: [string, string, string][] = [
    ['empty', '', 'empty'],
    ['only spaces', '   ', 'empty'],
    ['too long', 'A'.repeat(LIMITS.fragmentChars + 1), 'too-long'],
    ['not base64url', 'abc$def<img src=x onerror=alert(1)>', 'not-base64url'],
    ['impossible base64 length', 'AAAAA', 'not-base64url'],
    ['padding is not base64url', pack({ v: 1 }) + '==', 'not-base64url'],
    ['random bytes', toBase64url(new Uint8Array([255, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])), 'not-compressed'],
    ['truncated', encodeShare(exampleResult()).slice(0, 200), 'not-compressed'],
    ['compressed but not JSON', pack('<script>alert(1)</script>'), 'not-json'],
    ['JSON but a list', pack([1, 2, 3]), 'not-json'],
    ['JSON null', pack('null'), 'not-json'],
    ['a newer version', pack({ ...good(), v: 2 }), 'wrong-version'],
    ['no version', pack({ ...good(), v: undefined }), 'wrong-version'],
    ['accuracy above 1', pack({ ...good(), base: { ...good().base, homo: { acc: 2, lo: 0, hi: 1, n: 3 } } }), 'invalid'],
    ['unknown condition kind', pack({ ...good(), conditions: [{ ...good().conditions[0], kind: 'magic' }] }), 'invalid'],
    ['overlong name', pack({ ...good(), conditions: [{ ...good().conditions[0], name: 'x'.repeat(LIMITS.shortText + 1) }] }), 'invalid'],
    ['too many conditions', pack({ ...good(), conditions: Array(LIMITS.conditions + 1).fill(good().conditions[0]) }), 'invalid'],
    ['no conditions', pack({ ...good(), conditions: [] }), 'invalid'],
    ['string where a number belongs', pack({ ...good(), counts: { known: '412', unknown: 1 } }), 'invalid'],
    ['bad date', pack({ ...good(), manifest: { ...good().manifest, date: 'yesterday' } }), 'invalid'],
    ['too many hyper-parameters', pack({ ...good(), manifest: { ...good().manifest, hyper: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`h${i}`, i])) } }), 'invalid'],
    ['compression bomb', toBase64url(deflateSync(new Uint8Array(LIMITS.jsonBytes * 4).fill(32), { level: 9 })), 'too-large'],
  ];
  it.each(cases)('%s', (_label, input, code) => {
    let r: ReturnType<typeof decodeShare> | undefined;
    expect(() => (r = decodeShare(input))).not.toThrow();
    expect(r!.ok).toBe(false);
    if (r!.ok) return;
    expect(r!.error.code).toBe(code);
    expect(r!.error.message.length).toBeGreaterThan(10);
    if (code === 'invalid') expect(r!.error.issues.length).toBeGreaterThan(0);
  });

  it("carries a toy world's teaching-group table, and refuses one with too many groups", () => {
    const teaching: SharedResult['teaching'] = {
      groups: [
        { id: 'statement', label: 'stated only', n: 168 },
        { id: 'none', label: 'never taught', n: 114 },
      ],
      accuracy: [
        { model: 'base (k-shot)', acc: [0.446, 0.257] },
        { model: 'Harmonious', acc: [0.4231, null] },
      ],
      contrasts: [{ a: 'Harmonious', b: 'Incompatible', teaching: 'statement', mean: 0.143, lo: 0.05, hi: 0.23, p: 0.25, seeds: 3, n: 168, holds: true, reversed: false }],
    };
    const x = { ...exampleResult(), teaching };
    const r = decodeShare(encodeShare(x));
    expect(r.ok && r.result.teaching).toEqual(roundForShare(teaching));
    const many = { ...teaching, groups: Array.from({ length: LIMITS.groups + 1 }, (_, i) => ({ id: `g${i}`, label: 'g', n: 1 })) };
    const bad = decodeShare(pack({ ...good(), teaching: many }));
    expect(!bad.ok && bad.error.issues.join('\n')).toMatch(/teaching\.groups/);
  });

  it('refuses a link whose tables repeat a key the report renders by (a group id, a model, a condition name)', () => {
    const teaching: SharedResult['teaching'] = {
      groups: [
        { id: 'statement', label: 'stated only', n: 168 },
        { id: 'statement', label: 'again', n: 114 },
      ],
      accuracy: [{ model: 'Harmonious', acc: [0.4, 0.2] }],
      contrasts: [],
    };
    const twiceGroup = decodeShare(pack({ ...good(), teaching }));
    expect(!twiceGroup.ok && twiceGroup.error.issues.join('\n')).toMatch(/teaching\.groups: a group id appears twice/);
    const twiceModel = decodeShare(pack({ ...good(), teaching: { ...teaching, groups: [teaching.groups[0]], accuracy: [{ model: 'H', acc: [0.1] }, { model: 'H', acc: [0.2] }] } }));
    expect(!twiceModel.ok && twiceModel.error.issues.join('\n')).toMatch(/teaching\.accuracy: a model appears twice/);
    const g = good() as SharedResult;
    const twiceCondition = decodeShare(pack({ ...g, conditions: [g.conditions[0], g.conditions[0]] }));
    expect(!twiceCondition.ok && twiceCondition.error.issues.join('\n')).toMatch(/conditions: a condition name appears twice/);
  });

  it('carries confirmatory or exploratory and the plan, and refuses a status that disagrees with its plan', () => {
    const plan = { hash: 'a'.repeat(64), configHash: 'b'.repeat(64), arm: 'main' as const, createdAt: '2026-11-20T08:00:00.000Z' };
    const confirmed = decodeShare(encodeShare({ ...exampleResult(), status: 'confirmatory', plan }));
    expect(confirmed.ok && [confirmed.result.status, confirmed.result.plan]).toEqual(['confirmatory', plan]);
    const explored = decodeShare(encodeShare({ ...exampleResult(), status: 'exploratory' }));
    expect(explored.ok && explored.result.status).toBe('exploratory');
    // An older link carries neither (it reads as exploratory).
    expect(codeOf(encodeShare(exampleResult()))).toBe('ok');
    const noPlan = decodeShare(pack({ ...good(), status: 'confirmatory' }));
    expect(!noPlan.ok && noPlan.error.issues.join('\n')).toMatch(/status: a confirmatory result names the plan it ran under/);
    const planned = decodeShare(pack({ ...good(), status: 'exploratory', plan }));
    expect(!planned.ok && planned.error.issues.join('\n')).toMatch(/status: only a confirmatory result names a plan/);
    const badHash = decodeShare(pack({ ...good(), status: 'confirmatory', plan: { ...plan, hash: 'not a hash' } }));
    expect(!badHash.ok && badHash.error.issues.join('\n')).toMatch(/plan\.hash: a SHA-256 in hex/);
    expect(codeOf(pack({ ...good(), status: 'decided' }))).not.toBe('ok');
  });

  it('names the offending field', () => {
    const r = decodeShare(pack({ ...good(), counts: { known: -1, unknown: 1 } }));
    expect(!r.ok && r.error.issues.join('\n')).toMatch(/counts\.known/);
  });

  it('keeps markup as plain text (the view renders text only)', () => {
    const x = exampleResult();
    x.conditions[0].name = '<img src=x onerror=alert(1)>';
    const r = decodeShare(encodeShare(x));
    expect(r.ok && r.result.conditions[0].name).toBe('<img src=x onerror=alert(1)>');
  });

  it('does not let a __proto__ key change prototypes', () => {
    const json = JSON.stringify(good()).replace('"hyper":{', '"hyper":{"__proto__":{"polluted":true},');
    const r = decodeShare(pack(json));
    expect(({} as any).polluted).toBeUndefined();
    if (r.ok) expect(Object.getPrototypeOf(r.result.manifest.hyper)).toBe(Object.prototype);
  });

  it('stops inflating a compression bomb at the size limit instead of unpacking it whole', () => {
    // ~35 MiB of spaces in a link under the length limit: the decoder must stop near jsonBytes (256 kB).
    const bomb = deflateSync(new Uint8Array(35 * 2 ** 20).fill(32), { level: 9 });
    expect(toBase64url(bomb).length).toBeLessThan(LIMITS.fragmentChars);
    const stats = { inflated: 0 };
    expect(inflateLimited(bomb, LIMITS.jsonBytes, stats)).toBe('too-large');
    expect(stats.inflated).toBeGreaterThan(LIMITS.jsonBytes);
    expect(stats.inflated).toBeLessThan(LIMITS.jsonBytes + 2 ** 20);
    expect(decodeShare(toBase64url(bomb))).toMatchObject({ ok: false, error: { code: 'too-large' } });
    // A valid result still inflates whole.
    const data = deflateSync(strToU8(JSON.stringify(good())));
    expect(strFromU8(inflateLimited(data, LIMITS.jsonBytes) as Uint8Array)).toBe(JSON.stringify(good()));
  });

  it('survives every truncation of a valid link', () => {
    const data = encodeShare(exampleResult());
    for (let n = 0; n < data.length; n += 7) expect(() => decodeShare(data.slice(0, n))).not.toThrow();
  });

  it('checkResult rejects non-objects', () => {
    for (const v of [null, 3, 'x', [], true]) expect(checkResult(v).ok).toBe(false);
  });
});

describe('base64url', () => {
  it('round-trips every length', () => {
    for (let n = 0; n < 40; n++) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 255);
      expect(Array.from(fromBase64url(toBase64url(b))!)).toEqual(Array.from(b));
    }
    expect(toBase64url(new Uint8Array([0xfb, 0xff]))).toBe('-_8');
  });
});

describe('JSON export and import', () => {
  it('round-trips and reports bad rows by number', () => {
    const a = exampleResult();
    const b: SharedResult = { ...exampleResult(), title: 'second' };
    const file = JSON.parse(exportJson([a, b]));
    file.results.push({ ...a, v: 9, title: 'from the future' }, { title: 'broken', v: 1 });
    const out = parseImport(JSON.stringify(file));
    expect(out.fatal).toBeNull();
    expect(out.results).toHaveLength(2);
    expect(out.results[1].title).toBe('second');
    expect(out.errors.map((e) => [e.row, e.title])).toEqual([
      [3, 'from the future'],
      [4, 'broken'],
    ]);
    expect(out.errors[0].message).toMatch(/version 9/);
  });

  it('gives a whole-file error for files that are not exports', () => {
    expect(parseImport('not json').fatal).toMatch(/not JSON/);
    expect(parseImport('{"hello":1}').fatal).toMatch(/not an IFT Lab export/);
    expect(parseImport(JSON.stringify({ format: 'ift-lab-results' })).fatal).toMatch(/no list/);
    expect(parseImport(JSON.stringify(exampleResult())).results).toHaveLength(1);
  });
});

describe('stored results that no longer validate', () => {
  it('are set apart with their issues (never rendered), so the Results page is not blocked', async () => {
    const { sortStored, toRecord } = await import('../../../src/share');
    const ok = toRecord(exampleResult() as SharedResult, 'link', 1);
    const g = exampleResult() as SharedResult;
    const bad = { ...toRecord({ ...g, conditions: [g.conditions[0], g.conditions[0]] }, 'link', 2), id: 'bad' };
    const run = { id: 'r1', createdAt: 3, kind: 'experiment' };
    const s = sortStored([ok, bad, run]);
    expect(s.results.map((r) => r.id)).toEqual([ok.id]);
    expect(s.others.map((r) => r.id)).toEqual(['r1']);
    expect(s.broken).toHaveLength(1);
    expect(s.broken[0].id).toBe('bad');
    expect(s.broken[0].issues.join('\n')).toMatch(/a condition name appears twice/);
  });
});
