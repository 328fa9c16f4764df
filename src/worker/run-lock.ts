/**
 * One trainer per run across the tabs of a profile: a Web Lock (navigator.locks) named after the run is
 * held while it trains, so a second tab cannot resume the same run and overwrite its checkpoints; and a
 * BroadcastChannel tells every tab which runs are training elsewhere, live. Without Web Locks (Node, old
 * browsers) training simply runs: there are no other tabs there.
 */
import { LabError } from '../lab/errors';

export const TRAINING_CHANNEL = 'ift-lab-training';
const lockName = (runId: string) => `ift-lab-run:${runId}`;

/** What the channel carries: a run started or stopped training in the tab `tab`. */
export interface TrainingMessage {
  runId: string;
  state: 'training' | 'stopped';
  tab: string;
}

export class RunLockedError extends LabError {
  constructor(readonly runId: string) {
    super(
      'run-locked',
      `Run ${runId} is training in another tab of IFT Lab.`,
      'Switch to that tab to follow or cancel it, or wait: this tab shows when it stops. Closing that tab releases the run.',
    );
  }
}

interface LockManagerLike {
  request<T>(name: string, opts: { ifAvailable?: boolean; signal?: AbortSignal }, fn: (lock: unknown) => Promise<T>): Promise<T>;
  query?(): Promise<{ held?: { name?: string }[] }>;
}

function locks(): LockManagerLike | undefined {
  return (globalThis.navigator as { locks?: LockManagerLike } | undefined)?.locks;
}

/**
 * This tab's id, shared by the page and its Worker (client.ts names the Worker `ift-lab#<id>`), so that a
 * tab never reports its own Worker's run as training "in another tab".
 */
export const TAB_ID: string = /#(\w+)$/.exec((globalThis as { name?: string }).name ?? '')?.[1] ?? Math.random().toString(36).slice(2);
const tab = TAB_ID;

function announce(msg: Omit<TrainingMessage, 'tab'>): void {
  if (typeof BroadcastChannel === 'undefined') return;
  const ch = new BroadcastChannel(TRAINING_CHANNEL);
  ch.postMessage({ ...msg, tab } satisfies TrainingMessage);
  ch.close();
}

/**
 * Runs `train` holding the run's lock; throws RunLockedError when another tab holds it — at once, or after
 * `waitMs` of waiting for it (a resume right after a reload: the reloaded page's Worker may hold the lock for
 * a moment after the page is gone). Every tab hears "training" when it starts and "stopped" when it ends.
 */
export async function withRunLock<T>(runId: string, train: () => Promise<T>, waitMs = 0): Promise<T> {
  const lm = locks();
  if (!lm) return train();
  const held = async (lock: unknown) => {
    if (!lock) throw new RunLockedError(runId);
    announce({ runId, state: 'training' });
    try {
      return await train();
    } finally {
      announce({ runId, state: 'stopped' });
    }
  };
  try {
    return await lm.request(lockName(runId), { ifAvailable: true }, held);
  } catch (e) {
    if (!(e instanceof RunLockedError) || waitMs <= 0) throw e;
  }
  const timeout = new AbortController();
  const t = setTimeout(() => timeout.abort(), waitMs);
  let got = false;
  try {
    return await lm.request(lockName(runId), { signal: timeout.signal }, (lock) => {
      got = true;
      clearTimeout(t);
      return held(lock);
    });
  } catch (e) {
    if (!got) throw new RunLockedError(runId);
    throw e;
  } finally {
    clearTimeout(t);
  }
}

/** The runs training anywhere on this profile now (Web Locks' own view, right after a reload too). */
export async function runsTrainingNow(): Promise<string[]> {
  const held = (await locks()?.query?.())?.held ?? [];
  return held.map((l) => l.name ?? '').filter((n) => n.startsWith('ift-lab-run:')).map((n) => n.slice('ift-lab-run:'.length));
}

/**
 * Calls `onChange` with the runs training in other tabs, at once and on every change; returns a stop
 * function. `mine` says which runs this tab trains itself (left out of the first, lock-based answer).
 */
export function watchTraining(onChange: (runIds: string[]) => void, mine: () => readonly string[] = () => []): () => void {
  const now = new Set<string>();
  let stopped = false;
  void runsTrainingNow().then((ids) => {
    if (stopped) return;
    for (const id of ids) if (!mine().includes(id)) now.add(id);
    onChange([...now]);
  });
  if (typeof BroadcastChannel === 'undefined') return () => (stopped = true);
  const ch = new BroadcastChannel(TRAINING_CHANNEL);
  // A lock seen at load may belong to the page just reloaded, whose Worker never says "stopped": drop what
  // Web Locks no longer hold, every few seconds.
  const prune = setInterval(() => {
    if (!now.size) return;
    void runsTrainingNow().then((held) => {
      if (stopped) return;
      let changed = false;
      for (const id of [...now])
        if (!held.includes(id) || mine().includes(id)) {
          now.delete(id);
          changed = true;
        }
      if (changed) onChange([...now]);
    });
  }, 3000);
  ch.onmessage = (ev: MessageEvent<TrainingMessage>) => {
    // This tab's own Worker trains it now: not "another tab", whatever the lock said at load.
    if (ev.data.tab === tab) {
      if (now.delete(ev.data.runId)) onChange([...now]);
      return;
    }
    if (ev.data.state === 'training') now.add(ev.data.runId);
    else now.delete(ev.data.runId);
    onChange([...now]);
  };
  return () => {
    stopped = true;
    clearInterval(prune);
    ch.close();
  };
}
