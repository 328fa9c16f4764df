import { describe, expect, it } from 'vitest';
import { EmptySplitError, UnknownSubjectError } from '../../../src/lab/errors';
import { closestName, makeSplits, type SplitConfig } from '../../../src/lab/splits';
import { loadMmlu } from '../../helpers/mmlu';

// Two social-science subjects, one more social science for ID, and two others for OOD.
const subjects = ['high_school_geography', 'sociology', 'public_relations', 'astronomy', 'philosophy'];
const questions = loadMmlu(subjects, ['val', 'test']);
const base: SplitConfig = { trainSubjects: ['high_school_geography'], related: 'category', homoFraction: 0.3, seed: 42 };

describe('makeSplits', () => {
  it('is disjoint, covers the right subjects and follows the HOMO fraction', () => {
    const s = makeSplits(questions, base);
    const ids = [s.train, s.homo, s.id, s.ood].flat().map((q) => q.id);
    expect(new Set(ids).size).toBe(ids.length);
    const geo = questions.filter((q) => q.subject === 'high_school_geography').length;
    expect(s.train.length + s.homo.length).toBe(geo);
    expect(s.homo.length).toBe(Math.round(geo * 0.3));
    expect(s.idSubjects).toEqual(['public_relations', 'sociology']);
    expect(s.oodSubjects).toEqual(['astronomy', 'philosophy']);
    expect(new Set(s.ood.map((q) => q.subject))).toEqual(new Set(['astronomy', 'philosophy']));
  });

  it('is deterministic from the seed, whatever the input order, and differs with another seed', () => {
    const a = makeSplits(questions, base);
    const b = makeSplits([...questions].reverse(), base);
    expect(b.homo.map((q) => q.id)).toEqual(a.homo.map((q) => q.id));
    const c = makeSplits(questions, { ...base, seed: 7 });
    expect(c.homo.map((q) => q.id)).not.toEqual(a.homo.map((q) => q.id));
  });

  it('applies size caps and a user list of related subjects', () => {
    const s = makeSplits(questions, { ...base, related: ['astronomy'], caps: { train: 25, homo: 10, id: 10, ood: 30 } });
    expect([s.train.length, s.homo.length, s.id.length, s.ood.length]).toEqual([25, 10, 10, 30]);
    expect(s.idSubjects).toEqual(['astronomy']);
    expect(s.id.every((q) => q.subject === 'astronomy')).toBe(true);
    expect(s.ood.every((q) => q.subject !== 'astronomy' && q.subject !== 'high_school_geography')).toBe(true);
  });

  const empty: [string, Partial<SplitConfig>, string, RegExp][] = [
    ['no related subject in the category', { trainSubjects: ['astronomy'] }, 'id', /category "STEM"/],
    ['related list only of training subjects', { related: ['high_school_geography'] }, 'id', /high_school_geography/],
    ['everything related', { related: ['sociology', 'public_relations', 'astronomy', 'philosophy'] }, 'ood', /every loaded subject/],
    ['zero OOD cap', { caps: { ood: 0 } }, 'ood', /OOD cap is 0/],
    ['HOMO fraction too small', { homoFraction: 0.001 }, 'homo', /rounds to 0/],
  ];
  for (const [name, change, split, reason] of empty) {
    it(`says which split is empty and why: ${name}`, () => {
      try {
        makeSplits(questions, { ...base, ...change });
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(EmptySplitError);
        expect((e as EmptySplitError).split).toBe(split);
        expect((e as EmptySplitError).message).toMatch(reason);
      }
    });
  }

  it('refuses a subject name the questions do not have, suggesting the closest (a typo never moves data between splits)', () => {
    const subjects = [...new Set(questions.map((q) => q.subject))];
    const other = subjects.find((s) => s !== 'high_school_geography')!;
    const typo = other.slice(0, -1);
    for (const change of [{ trainSubjects: ['high_school_geography', typo] }, { related: [typo] }]) {
      try {
        makeSplits(questions, { ...base, ...change });
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(UnknownSubjectError);
        expect((e as Error).message).toContain(`${JSON.stringify(typo)} is not a subject of the loaded questions (did you mean ${JSON.stringify(other)}?)`);
        expect((e as Error).message).toContain('trainSubjects' in change ? 'subjects.train' : 'subjects.related');
      }
    }
    expect(() => makeSplits(questions, { ...base, trainSubjects: ['virology'] })).toThrow(/"virology" is not a subject of the loaded questions/);
    expect(closestName('toy_currencie', ['toy_continents', 'toy_currencies', 'toy_founders'])).toBe('toy_currencies');
    expect(closestName('zzzz', ['toy_currencies'])).toBeNull();
  });

  it('allows a split to be empty when asked', () => {
    const s = makeSplits(questions, { ...base, caps: { ood: 0 }, allowEmpty: ['ood'] });
    expect(s.ood).toEqual([]);
  });
});
