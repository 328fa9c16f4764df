// The run clock (src/lab/time-left.ts): the fraction done in estimated seconds, a time left that starts at the
// estimate, converges on the measured pace and reaches 0, and a resume's restored work not counted as pace.
import { describe, expect, it } from 'vitest';
import type { ExperimentEvent } from '../../../src/lab/experiment';
import { RunClock } from '../../../src/lab/time-left';

const est = { seconds: { probe: 10, baseline: 10, training: 60, evaluation: 20 } };
const step = (index: number, total: number, s: number, of: number) =>
  ({ type: 'train', run: { runId: `r${index}` }, index, total, event: { type: 'step', step: s, totalSteps: of } }) as unknown as ExperimentEvent;
const stage = (s: string) => ({ type: 'stage', stage: s, message: '' }) as ExperimentEvent;
const prog = (s: string, done: number, total: number) => ({ type: 'progress', stage: s, done, total }) as ExperimentEvent;

/** A whole 2-run experiment at `speed` × the estimate's pace; the time left read after each event. */
function simulate(speed: number, clock: RunClock, tick: (dt: number) => void): number[] {
  const out: number[] = [];
  const at = (e: ExperimentEvent, dt: number) => {
    tick(dt * speed);
    clock.onEvent(e);
    out.push(clock.read().etaSec!);
  };
  at(stage('split'), 0);
  at(stage('probe'), 0);
  for (let i = 1; i <= 10; i++) at(prog('probe', i, 10), 1);
  at(stage('baseline'), 0);
  for (let i = 1; i <= 10; i++) at(prog('baseline', i, 10), 1);
  at(stage('runs'), 0);
  for (let r = 0; r < 2; r++) {
    for (let s = 1; s <= 30; s++) at(step(r, 2, s, 30), 1);
    for (let i = 1; i <= 10; i++) at(prog('evaluate', i, 10), 1);
  }
  at(stage('report'), 0);
  return out;
}

describe('RunClock', () => {
  it('starts at the estimate and ends at 0 when the device keeps to it, never rising', () => {
    let t = 0;
    const clock = new RunClock(est, () => t);
    const etas = simulate(1, clock, (dt) => (t += dt));
    expect(etas[0]).toBeCloseTo(100, 5);
    expect(etas.at(-1)).toBeCloseTo(0, 5);
    for (let i = 1; i < etas.length; i++) expect(etas[i]).toBeLessThanOrEqual(etas[i - 1] + 1e-9);
    expect(clock.read().fraction).toBe(1);
  });

  it('at three times slower it converges on the measured pace without jumping up', () => {
    let t = 0;
    const clock = new RunClock(est, () => t);
    const etas = simulate(3, clock, (dt) => (t += dt));
    // Half way in estimated work, the truth is 150 s left: the reading lies between the estimate's 50 and it.
    const half = etas[10 + 10 + 3 + 30 + 10 - 1 + 2];
    expect(half).toBeGreaterThan(50);
    expect(half).toBeLessThan(160);
    // No rise by more than a few seconds between two readings.
    let worstRise = 0;
    for (let i = 1; i < etas.length; i++) worstRise = Math.max(worstRise, etas[i] - etas[i - 1]);
    expect(worstRise).toBeLessThan(10);
    expect(etas.at(-1)).toBeCloseTo(0, 5);
  });

  it('a resume: the restored probe, baseline and first run are done, not pace', () => {
    let t = 0;
    const clock = new RunClock(est, () => t);
    clock.onEvent(stage('split'));
    clock.onEvent(stage('probe'));
    t += 0.1;
    clock.onEvent(stage('datasets'));
    clock.onEvent(stage('baseline'));
    clock.onEvent(stage('runs'));
    t += 0.1;
    clock.onEvent(step(1, 2, 16, 30));
    // 20 s of stages + 40 s of run 1 (30 training, 10 evaluation) + 16 of run 2's 30 steps (16 s).
    expect(clock.read().fraction).toBeCloseTo((20 + 40 + 30 * (16 / 30)) / 100, 5);
    t += 1;
    clock.onEvent(step(1, 2, 17, 30));
    // One step in a second at the estimate's pace: the time left stays near the estimate's, not a restored-work pace.
    const r = clock.read();
    // (23 s of estimated work left; counting the restored 76 % as 1.2 s of pace would say under a second.)
    expect(r.etaSec!).toBeGreaterThan(20);
    expect(r.etaSec!).toBeLessThan(26);
  });

  it('paused time is not work', () => {
    let t = 0;
    const clock = new RunClock(est, () => t);
    clock.onEvent(stage('runs'));
    for (let s = 1; s <= 15; s++) {
      t += 1;
      clock.onEvent(step(0, 2, s, 30));
    }
    const before = clock.read().etaSec!;
    clock.pause(true);
    t += 1000;
    clock.pause(false);
    expect(clock.read().etaSec!).toBeCloseTo(before, 5);
  });

  it('without an estimate: nothing until a little work is measured, then the pace', () => {
    let t = 0;
    const clock = new RunClock(null, () => t);
    clock.onEvent(stage('probe'));
    expect(clock.read().etaSec).toBeNull();
    t += 5;
    clock.onEvent(prog('probe', 10, 10));
    expect(clock.read().etaSec).toBeGreaterThan(0);
  });
});
