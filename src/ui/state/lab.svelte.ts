/** The page's connection to the lab Worker, and what the Worker found about WebGPU. */
import { LabClient } from '../../worker/client';
import type { Capabilities, ErrorInfo } from '../../worker/protocol';

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
