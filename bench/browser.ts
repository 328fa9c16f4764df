import { openDevice } from '../src/engine/device';
import { toErrorInfo } from '../src/engine/errors';
import { Runtime } from '../src/engine/runtime';
import { formatTable, runBench } from './suite';

const out = document.getElementById('out')!;
const json = document.getElementById('json')!;
const button = document.getElementById('run') as HTMLButtonElement;

button.addEventListener('click', async () => {
  button.disabled = true;
  out.textContent = 'running…';
  try {
    const rt = new Runtime(await openDevice());
    const full = (document.getElementById('full') as HTMLInputElement).checked;
    const report = await runBench(rt, { full, runtime: navigator.userAgent, log: (s) => (out.textContent = s) });
    out.textContent = formatTable(report);
    json.textContent = JSON.stringify(report, null, 2);
    document.body.dataset.done = 'true';
    rt.destroy();
  } catch (e) {
    const info = toErrorInfo(e);
    out.textContent = `${info.message}\n${info.advice}`;
  } finally {
    button.disabled = false;
  }
});
