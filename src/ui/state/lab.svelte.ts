/** The page's connection to the lab Worker, and what the Worker found about WebGPU. */
import { LabClient } from '../../worker/client';
import type { CallOptions } from '../../worker/client';
import type { Capabilities, ErrorInfo, LabRequestKind, LabRequestOf, LabResults, RequestOf } from '../../worker/protocol';

class Lab {
  client: LabClient | null = null;
  capabilities = $state<Capabilities | null>(null);
  deviceLost = $state<ErrorInfo | null>(null);
  checking = $state(true);

  async start(): Promise<void> {
    this.client = LabClient.start();
    this.client.onDeviceLost = (e) => (this.deviceLost = e);
    try {
      this.capabilities = await this.client.call({ kind: 'capabilities' });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.capabilities = { webgpu: false, adapter: null, error: { name: 'WorkerError', code: 'worker', message, advice: 'Reload the page.' } };
    } finally {
      this.checking = false;
    }
  }
}

export const lab = new Lab();

/** The one call site of the lab's Worker requests (probe, buildDatasets, experiment, resumeExperiment, trainControl). */
export async function labCall<K extends LabRequestKind>(request: LabRequestOf<K>, opts: CallOptions = {}): Promise<LabResults[K]> {
  if (!lab.client) throw Object.assign(new Error('The lab Worker has not started.'), { advice: 'Reload the page.' });
  // Form values are Svelte state proxies, which structured clone refuses: send a plain snapshot.
  return lab.client.call($state.snapshot(request) as RequestOf<K>, opts) as Promise<LabResults[K]>;
}
