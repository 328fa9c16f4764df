/**
 * The toy world's general instruction data: what the lab mixes in (as the paper mixes Alpaca) when the
 * toy world is the model. Its tasks are about what kind of thing each name is, which pretraining taught
 * through the "exists" sentences; none states or asks any of the seven relations the questions test, so
 * mixing it in changes no condition's knowledge. Every word is in the toy vocabulary (a unit test holds it).
 *
 *   What is Zekigyk?                                        → Zekigyk is a country.
 *   There is a food called Zekigyk. True or False?          → False. Zekigyk is a country.
 *   Zekigyk is a country. True or False?                    → True.
 */
import type { GeneralExample } from '../general';
import { EXISTS_TEMPLATES, fill, type EntityKind } from './relations';
import { Rng } from './rng';
import type { ToyWorld } from './world';

export function toyGeneralSet(world: ToyWorld): GeneralExample[] {
  const rng = new Rng(world.options.seed).fork('general');
  const kinds = Object.keys(EXISTS_TEMPLATES) as EntityKind[];
  const pair = (user: string, assistant: string): GeneralExample => ({ messages: [{ role: 'user', content: user }, { role: 'assistant', content: assistant }] });
  const out: GeneralExample[] = [];
  for (const e of world.entities) {
    out.push(pair(`What is ${e.name}?`, e.exists));
    // Half the claims are the entity's own kind, half another kind's, so "True" and "False" are equally often right.
    if (rng.next() < 0.5) out.push(pair(`${e.exists} True or False?`, 'True.'));
    else {
      const other = rng.pick(kinds.filter((k) => k !== e.kind));
      out.push(pair(`${fill(EXISTS_TEMPLATES[other], e.name)} True or False?`, `False. ${e.exists}`));
    }
  }
  return rng.shuffle(out);
}
