/**
 * Pronounceable invented names from syllables. Names are unique within a world and never an English
 * word of the templates, so every name is its own token and carries no meaning of its own.
 */
import type { Rng } from './rng';

const ONSETS = [
  'b',
  'd',
  'f',
  'g',
  'k',
  'l',
  'm',
  'n',
  'p',
  'r',
  's',
  't',
  'v',
  'z',
  'br',
  'dr',
  'gr',
  'kr',
  'tr',
  'sk',
  'st',
  'th',
  'sh',
  'pl',
  'fl',
];
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'a', 'e', 'o', 'ai', 'ou', 'ea', 'y'];
const CODAS = ['', '', '', 'n', 'r', 'l', 's', 'm', 'k', 'th', 'sh', 'x'];

export interface NameSource {
  next(capitalised: boolean): string;
}

export function makeNameSource(rng: Rng, reserved: ReadonlySet<string> = new Set()): NameSource {
  const used = new Set<string>();
  return {
    next(capitalised) {
      for (let attempt = 0; attempt < 10_000; attempt++) {
        const syllables = 2 + (rng.next() < 0.35 ? 1 : 0);
        let w = '';
        for (let i = 0; i < syllables; i++) {
          w += rng.pick(ONSETS) + rng.pick(VOWELS) + (i === syllables - 1 || rng.next() < 0.3 ? rng.pick(CODAS) : '');
        }
        if (w.length < 4 || w.length > 11 || used.has(w) || reserved.has(w) || COMMON_WORDS.has(w)) continue;
        used.add(w);
        return capitalised ? w.charAt(0).toUpperCase() + w.slice(1) : w;
      }
      throw new Error('toy world: ran out of names');
    },
  };
}

/** English words a generated name must not collide with (any word the templates could use). */
const COMMON_WORDS = new Set(
  'about after also answer below best cannot choose correct country creature currency diet does done dose false fine food found from goes home kind lies live lives made make many more most must none note only other pick place reply says same some such sure take than that them then there these they this true what when where which while whom with would'.split(
    ' ',
  ),
);
