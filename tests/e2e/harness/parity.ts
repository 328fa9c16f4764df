// Our engine against transformers.js (onnxruntime-web, WebGPU provider) in the browser, on the same fixture
// files (written by tests/helpers/fixtures.ts, served by the Vite dev server).
import { AutoModelForCausalLM, Tensor, env } from '@huggingface/transformers';
import { openDevice } from '../../../src/engine/device';
import { GpuRuntime } from '../../../src/engine/runtime';
import { createEngineModel } from '../../../src/model/engine-model';
import { loadFolderFiles } from '../../../src/model/hub';
import { checkModelFiles } from '../../../src/model/load';
import { verifyAgainstReference } from '../../../src/model/verify';
import { ortWasmBase } from '../../../src/ui/offline-paths';

const ROOT = '/tests/fixtures/generated/';

async function run(name: string) {
  const files = await loadFolderFiles(name, async (file) => {
    const r = await fetch(`${ROOT}${name}/${file}`);
    return r.ok ? r.blob() : null;
  });
  const checked = checkModelFiles(files);
  const rt = new GpuRuntime(await openDevice());
  const ours = await createEngineModel(rt, checked, { precision: 'f32', id: name });

  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = ROOT;
  if (env.backends.onnx.wasm) env.backends.onnx.wasm.wasmPaths = ortWasmBase(location.origin + '/');
  const hf = await AutoModelForCausalLM.from_pretrained(name, { dtype: 'fp32', device: 'webgpu' });

  const prompts = ['hello world', 'the cat sat on', 'abc abc abc'].map((p) => ours.tokenizer.encode(p));
  const i64 = (a: readonly number[]) => new Tensor('int64', BigInt64Array.from(a.map((x) => BigInt(x))), [1, a.length]);
  const report = await verifyAgainstReference(
    ours,
    async (ids) => {
      const out: Float32Array[] = [];
      for (const seq of ids) {
        const r = (await hf({ input_ids: i64(seq), attention_mask: i64(seq.map(() => 1)) })) as { logits: { data: Float32Array } };
        out.push(Float32Array.from(r.logits.data));
      }
      return out;
    },
    prompts,
  );
  const greedy: { ours: number[]; theirs: number[] }[] = [];
  for (const p of prompts) {
    const mine = await ours.generate(p, { maxNewTokens: 8, temperature: 0 });
    const gen = (await hf.generate({ input_ids: i64(p), attention_mask: i64(p.map(() => 1)), max_new_tokens: 8, do_sample: false })) as { data: BigInt64Array };
    const theirs = Array.from(gen.data, Number).slice(p.length);
    // transformers.js keeps EOS in its output; ours stops before it.
    const eos = new Set(checked.spec.eosTokenIds);
    const cut = theirs.findIndex((t) => eos.has(t));
    greedy.push({ ours: mine, theirs: cut < 0 ? theirs : theirs.slice(0, cut) });
  }
  await hf.dispose();
  ours.dispose();
  return { ...report, greedy };
}

(window as unknown as { runParity: typeof run }).runParity = run;
document.title = 'ready';
