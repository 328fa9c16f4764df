/** Results in the store (`runs` collection) and their JSON export/import file. */
import type { StoredRecord } from '../store/types';
import { checkResult } from './codec';
import { isRecipeResults, recipeToShared } from './recipe-results';
import type { SharedResult } from './types';

export interface ResultRecord extends StoredRecord {
  kind: 'result';
  /** Where it came from: a run in this browser, a JSON file, or a share link. */
  source: 'lab' | 'file' | 'link';
  result: SharedResult;
}

export function isResultRecord(r: StoredRecord): r is ResultRecord {
  return r.kind === 'result' && typeof r.result === 'object' && r.result !== null;
}

/** A stored result that does not validate (stored by an older version, or edited): shown with its issues and a delete button, never rendered. */
export interface BrokenRecord {
  id: string;
  createdAt: number;
  title: string;
  issues: string[];
}

/**
 * The store's `runs` records, sorted into results that validate (the only ones the report renders), broken
 * results (each with why), and runs without a result.
 */
export function sortStored(all: readonly StoredRecord[]): { results: ResultRecord[]; broken: BrokenRecord[]; others: StoredRecord[] } {
  const out = { results: [] as ResultRecord[], broken: [] as BrokenRecord[], others: [] as StoredRecord[] };
  for (const r of all) {
    if (r.kind !== 'result') {
      out.others.push(r);
      continue;
    }
    const c = checkResult(r.result);
    if (c.ok) out.results.push({ ...(r as ResultRecord), result: c.result });
    else {
      const t = (r.result as { title?: unknown } | null)?.title;
      out.broken.push({ id: r.id, createdAt: r.createdAt, title: typeof t === 'string' ? t.slice(0, 120) : '(no title)', issues: [c.error.message, ...c.error.issues] });
    }
  }
  return out;
}

/** FNV-1a of the result's JSON: the same result imported twice is one record, not two. */
export function resultId(result: SharedResult): string {
  const s = JSON.stringify(result);
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return `result-${(h >>> 0).toString(36)}-${s.length.toString(36)}`;
}

export function toRecord(result: SharedResult, source: ResultRecord['source'], now = Date.now()): ResultRecord {
  return { id: resultId(result), createdAt: now, kind: 'result', source, result };
}

export const EXPORT_FORMAT = 'ift-lab-results';
export const IMPORT_LIMITS = { fileChars: 16_000_000, rows: 2000 } as const;

export function exportJson(results: SharedResult[]): string {
  return JSON.stringify({ format: EXPORT_FORMAT, version: 1, exported: new Date().toISOString(), results }, null, 1);
}

export interface ImportRowError {
  /** 1-based position in the file's list of results. */
  row: number;
  /** The row's title when it has a readable one. */
  title: string;
  message: string;
  issues: string[];
}

export interface ImportOutcome {
  results: SharedResult[];
  errors: ImportRowError[];
  /** Set when the file as a whole could not be read (then results and errors are empty). */
  fatal: string | null;
}

/** Reads an export file (or a bare list, or one result) row by row. Never throws. */
export function parseImport(text: string): ImportOutcome {
  const none = (fatal: string): ImportOutcome => ({ results: [], errors: [], fatal });
  if (text.length > IMPORT_LIMITS.fileChars) return none(`The file is larger than ${IMPORT_LIMITS.fileChars / 1e6} MB; an export of results is far smaller.`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return none(`The file is not JSON (${e instanceof Error ? e.message.slice(0, 120) : 'parse error'}).`);
  }
  let rows: unknown[];
  if (Array.isArray(json)) rows = json;
  else if (json && typeof json === 'object' && (json as { format?: unknown }).format === EXPORT_FORMAT) {
    const r = (json as { results?: unknown }).results;
    if (!Array.isArray(r)) return none('The file says it is an IFT Lab export but has no list of results.');
    rows = r;
  } else if (isRecipeResults(json)) {
    // A recipe's results.json (train.py on a GPU machine): converted by the same code as a browser run's result.
    const r = recipeToShared(json);
    if (r.results.length === 0) return none(r.issues.join(' '));
    return { results: r.results, errors: r.issues.map((message, i) => ({ row: i + 1, title: 'recipe results', message, issues: [] })), fatal: null };
  } else if (json && typeof json === 'object' && 'v' in json) rows = [json];
  else return none('The file is JSON but not an IFT Lab export (no "format": "ift-lab-results") nor a recipe\'s results.json.');
  if (rows.length > IMPORT_LIMITS.rows) return none(`The file holds ${rows.length} results; at most ${IMPORT_LIMITS.rows} are read at once.`);
  const out: ImportOutcome = { results: [], errors: [], fatal: null };
  rows.forEach((row, i) => {
    const r = checkResult(row);
    if (r.ok) out.results.push(r.result);
    else {
      const t = (row as { title?: unknown } | null)?.title;
      out.errors.push({ row: i + 1, title: typeof t === 'string' ? t.slice(0, 80) : '', message: r.error.message, issues: r.error.issues });
    }
  });
  return out;
}
