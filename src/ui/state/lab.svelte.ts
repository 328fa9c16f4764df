/** The page's connection to the lab Worker, what the Worker found about WebGPU, and what the lab runs on. */
import { LabClient } from '../../worker/client';
import type { CallOptions } from '../../worker/client';
import type { Capabilities, DeviceChoice, ErrorInfo, LabRequestKind, LabRequestOf, LabResults, RequestOf } from '../../worker/protocol';
import { modelForm } from './model-form.svelte';

export const DEVICE_LABEL: Record<DeviceChoice, string> = { auto: 'Automatic', webgpu: 'WebGPU', cpu: 'CPU' };

const asChoice = (x: string): DeviceChoice => (x === 'webgpu' || x === 'cpu' ? x : 'auto');

class Lab {
  client: LabClient | null = null;
  capabilities = $state<Capabilities | null>(null);
  deviceLost = $state<ErrorInfo | null>(null);
  checking = $state(true);
  /** Why the last change of backend was refused (e.g. a run in progress). */
  deviceError = $state<unknown>(null);

  async start(): Promise<void> {
    this.client = LabClient.start();
    this.client.onDeviceLost = (e) => (this.deviceLost = e);
    // The Model page's "Run on" setting, as stored (Automatic until a student picks another).
    await modelForm.load().catch(() => undefined);
    try {
      this.capabilities = await this.client.call({ kind: 'useDevice', device: asChoice(modelForm.values.device) });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.capabilities = { webgpu: false, adapter: null, backend: null, error: { name: 'WorkerError', code: 'worker', message, advice: 'Reload the page.' } };
    } finally {
      this.checking = false;
    }
  }

  /** Run on another backend from now on: stored with the Model page's settings, sent to the Worker. */
  async useDevice(device: DeviceChoice): Promise<void> {
    if (!this.client) return;
    this.deviceError = null;
    try {
      this.capabilities = await this.client.call({ kind: 'useDevice', device });
      modelForm.values.device = device;
      this.deviceLost = null;
    } catch (e) {
      this.deviceError = e;
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
