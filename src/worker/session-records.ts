// What the Session keeps in the store and hands to the experiment runner: probe and dataset records, the
// request context, and the ids they are stored under.
import type { ProbeResult } from '../lab/probe';
import type { QuestionBank } from '../lab/experiment';
import type { IftDataset } from '../lab/intervene';
import type { SplitConfig } from '../lab/splits';
import type { StoredRecord } from '../store/types';
import type { GeneralRef } from './general-source';
import type { ConditionId, ProbeConfig, ProbeSummary, Progress } from './protocol';

/** How a long request reports progress and learns that it was cancelled. */
export interface Ctx {
  progress(p: Progress): void;
  signal: AbortSignal;
}

export interface ProbeRecord extends StoredRecord {
  modelId: string;
  config: Omit<ProbeConfig, 'source'> & { source: { type: ProbeConfig['source']['type']; seed?: number; filename?: string } };
  label: string;
  bank: QuestionBank;
  split: SplitConfig;
  result: ProbeResult;
  summary: ProbeSummary;
}

export interface DatasetRecord extends StoredRecord {
  probeId: string;
  condition: ConditionId;
  ratio: number | null;
  label: string;
  /** The data seed the dataset was drawn with. */
  dataSeed?: number;
  dataset: IftDataset;
  /** The general instruction data mixed in (absent: none). */
  general?: GeneralRef;
}

/** A fresh record id: prefix, time and a random suffix. */
export const newId = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
