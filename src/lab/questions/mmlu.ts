/**
 * MMLU's 57 subjects with their sub-category and category, as in the MMLU repository's `categories.py`
 * (hendrycks/test). Data, not logic: ID test sets are drawn from subjects of the same category.
 */
export type MmluCategory = 'STEM' | 'humanities' | 'social sciences' | 'other';

export const MMLU_CATEGORIES: Record<MmluCategory, readonly string[]> = {
  STEM: ['physics', 'chemistry', 'biology', 'computer science', 'math', 'engineering'],
  humanities: ['history', 'philosophy', 'law'],
  'social sciences': ['politics', 'culture', 'economics', 'geography', 'psychology'],
  // "other (business, health, misc.)" in the original.
  other: ['other', 'business', 'health'],
};

export const MMLU_SUBCATEGORY: Readonly<Record<string, string>> = {
  abstract_algebra: 'math',
  anatomy: 'health',
  astronomy: 'physics',
  business_ethics: 'business',
  clinical_knowledge: 'health',
  college_biology: 'biology',
  college_chemistry: 'chemistry',
  college_computer_science: 'computer science',
  college_mathematics: 'math',
  college_medicine: 'health',
  college_physics: 'physics',
  computer_security: 'computer science',
  conceptual_physics: 'physics',
  econometrics: 'economics',
  electrical_engineering: 'engineering',
  elementary_mathematics: 'math',
  formal_logic: 'philosophy',
  global_facts: 'other',
  high_school_biology: 'biology',
  high_school_chemistry: 'chemistry',
  high_school_computer_science: 'computer science',
  high_school_european_history: 'history',
  high_school_geography: 'geography',
  high_school_government_and_politics: 'politics',
  high_school_macroeconomics: 'economics',
  high_school_mathematics: 'math',
  high_school_microeconomics: 'economics',
  high_school_physics: 'physics',
  high_school_psychology: 'psychology',
  high_school_statistics: 'math',
  high_school_us_history: 'history',
  high_school_world_history: 'history',
  human_aging: 'health',
  human_sexuality: 'culture',
  international_law: 'law',
  jurisprudence: 'law',
  logical_fallacies: 'philosophy',
  machine_learning: 'computer science',
  management: 'business',
  marketing: 'business',
  medical_genetics: 'health',
  miscellaneous: 'other',
  moral_disputes: 'philosophy',
  moral_scenarios: 'philosophy',
  nutrition: 'health',
  philosophy: 'philosophy',
  prehistory: 'history',
  professional_accounting: 'other',
  professional_law: 'law',
  professional_medicine: 'health',
  professional_psychology: 'psychology',
  public_relations: 'politics',
  security_studies: 'politics',
  sociology: 'culture',
  us_foreign_policy: 'politics',
  virology: 'health',
  world_religions: 'philosophy',
};

export const MMLU_SUBJECTS: readonly string[] = Object.keys(MMLU_SUBCATEGORY);

/** The category of an MMLU subject, or undefined for a subject MMLU does not have. */
export function mmluCategory(subject: string): MmluCategory | undefined {
  const sub = MMLU_SUBCATEGORY[subject];
  if (sub === undefined) return undefined;
  return (Object.keys(MMLU_CATEGORIES) as MmluCategory[]).find((c) => MMLU_CATEGORIES[c].includes(sub));
}

/** `high_school_geography` → `high school geography`, as the paper's prompt header writes it. */
export function formatSubject(subject: string): string {
  return subject.split('_').join(' ');
}
