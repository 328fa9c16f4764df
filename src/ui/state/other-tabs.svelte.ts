/** The runs training in other tabs of this profile, live (run-lock.ts: Web Locks + BroadcastChannel). */
import { watchTraining } from '../../worker/run-lock';

class OtherTabs {
  runs = $state<string[]>([]);
  private stop: (() => void) | null = null;

  start(): void {
    this.stop ??= watchTraining((ids) => (this.runs = ids));
  }
}

export const otherTabs = new OtherTabs();
