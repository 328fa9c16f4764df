/** Chart colours as CSS variables (app.css sets light and dark values), so charts follow the colour scheme. */
import type { TestSet } from '../../share';

export const SET_COLOR: Record<TestSet, string> = { homo: 'var(--c-homo)', id: 'var(--c-id)', ood: 'var(--c-ood)' };
export const KNOWN_COLOR = 'var(--c-known)';
export const UNKNOWN_COLOR = 'var(--c-unknown)';
export const MUTED = 'var(--muted)';
export const LINE = 'var(--line)';

/** Left margin wide enough for condition names at this width (names longer than that are cut by Plot). */
export function labelMargin(width: number, names: string[]): number {
  const longest = Math.max(6, ...names.map((n) => n.length));
  return Math.min(Math.round(width * 0.42), 14 + longest * 6.6);
}
