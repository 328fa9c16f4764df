import { openDevice } from '../src/engine/device';
import { toErrorInfo } from '../src/util/errors';
import { GpuRuntime } from '../src/engine/runtime';
import { ortWasmBase } from '../src/ui/offline-paths';
import { formatTable, runBench, SUITES } from './suite';

const out = document.getElementById('out')!;
const json = document.getElementById('json')!;
const button = document.getElementById('run') as HTMLButtonElement;
const suite = document.getElementById('suite') as HTMLSelectElement;

for (const s of SUITES) suite.add(new Option(s.title, s.id));
// ?suite=reference preselects one suite (links, and the e2e test).
const asked = new URLSearchParams(location.search).get('suite');
if (asked && SUITES.some((s) => s.id === asked)) suite.value = asked;

button.addEventListener('click', async () => {
  button.disabled = true;
  delete document.body.dataset.done;
  delete document.body.dataset.error;
  out.textContent = 'running…';
  try {
    const rt = new GpuRuntime(await openDevice());
    const full = (document.getElementById('full') as HTMLInputElement).checked;
    const report = await runBench(rt, {
      full,
      only: suite.value || undefined,
      runtime: navigator.userAgent,
      // transformers.js's onnxruntime-web loads its .wasm from this app's own ort/ folder, never a CDN.
      wasmPaths: ortWasmBase(document.baseURI),
      log: (s) => (out.textContent = s),
    });
    out.textContent = formatTable(report);
    json.textContent = JSON.stringify(report, null, 2);
    document.body.dataset.done = 'true';
    rt.destroy();
  } catch (e) {
    const info = toErrorInfo(e);
    out.textContent = `${info.message}\n${info.advice}`;
    document.body.dataset.error = info.message;
  } finally {
    button.disabled = false;
  }
});
