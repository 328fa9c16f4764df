/** Chart colours as CSS variables (app.css sets light and dark values), so charts follow the colour scheme. */
import type { TestSet } from '../../share';

export const SET_COLOR: Record<TestSet, string> = { homo: 'var(--c-homo)', id: 'var(--c-id)', ood: 'var(--c-ood)' };
export const KNOWN_COLOR = 'var(--c-known)';
export const UNKNOWN_COLOR = 'var(--c-unknown)';
export const MUTED = 'var(--muted)';
export const LINE = 'var(--line)';

/** The box of a chart with a numeric y axis: `width` (the figure's), `height`, and room for the y tick labels. */
export function numericChartBox(width: number, height: number): { width: number; height: number; marginLeft: number } {
  return { width, height, marginLeft: 48 };
}

/** Left margin wide enough for condition names at this width (names longer than that are cut by Plot). */
export function labelMargin(width: number, names: string[]): number {
  const longest = Math.max(6, ...names.map((n) => n.length));
  return Math.min(Math.round(width * 0.42), 14 + longest * 6.6);
}

/** An accuracy axis (percent) zoomed on the data, always showing chance (25 %), in steps of 10. */
export function accuracyDomain(values: number[]): [number, number] {
  const lo = Math.min(25, ...values);
  const hi = Math.max(...values);
  return [Math.max(0, Math.floor((lo - 3) / 10) * 10), Math.min(100, Math.ceil((hi + 3) / 10) * 10)];
}

/** A y domain that never collapses: equal values (e.g. every run at 50 %) would give unreadable ticks. */
export function paddedDomain(values: readonly number[], pad: number): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [0, 1];
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  return hi - lo < pad ? [lo - pad, hi + pad] : [lo, hi];
}

/** One colour per condition, in training order (readable on light and dark backgrounds). */
export const CONDITION_COLORS = ['#4e79a7', '#e15759', '#59a14f', '#f28e2b', '#b07aa1', '#76b7b2', '#edc948', '#9c755f'];
