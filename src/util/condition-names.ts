/**
 * The paper's condition names as a reader sees them. The lab's report and the shared result (which may not
 * run lab code) both print them, so the one table lives in this leaf every layer may import.
 */
const NAMES: Record<string, string> = {
  harmonious: 'Harmonious',
  incompatible: 'Incompatible',
  selfAligning: 'Self-aligning',
  randomWrong: 'Random-wrong',
  'base-chat': 'the untuned base (chat format)',
};

/** "Harmonious", "Mixture r = 0.2" (from `mixture-0.2`), "the untuned base (chat format)". */
export function conditionLabel(name: string): string {
  return NAMES[name] ?? (name.startsWith('mixture-') ? `Mixture r = ${name.slice(8)}` : name);
}

/** The toy world's teaching groups (src/lab/toyworld/world.ts): how pretraining taught a fact. */
export const TEACHING_LABEL: Record<string, string> = {
  mc: 'drilled as MC and stated',
  statement: 'stated only',
  none: 'never taught',
  misconception: 'taught wrongly (misconception)',
};
