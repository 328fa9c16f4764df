// The layer rule (docs/design.md "Layers") is enforced by `npm run check`: these plant back-edges in the
// real ESLint configuration and expect it to refuse them, and let the allowed edges (the port) through.
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
const eslint = new ESLint({ cwd: root });

/** The layer messages ESLint gives `code` as if it were the file `file` (nothing is written to disk). */
async function layerErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return result.messages.filter((m) => m.ruleId === 'layers/imports' || m.fatal).map((m) => m.message);
}

describe('the layer rule', () => {
  it('refuses an engine file that imports the lab (the planted back-edge)', async () => {
    const errors = await layerErrors('src/engine/planted.ts', "import { LabError } from '../lab/errors';\nexport const e = LabError;\n");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('src/engine/planted may not import src/lab/errors');
  });

  it('refuses a kernel that reaches the model layer, even for a type', async () => {
    const errors = await layerErrors('src/engine/kernels/rope/planted.ts', "import type { ModelSpec } from '../../../model/spec';\nexport type S = ModelSpec;\n");
    expect(errors).toHaveLength(1);
  });

  it('lets the model take the port as types, and only as types', async () => {
    expect(await layerErrors('src/model/planted.ts', "import type { LabModel } from '../lab/model';\nexport type M = LabModel;\n")).toEqual([]);
    const runtime = await layerErrors('src/model/planted.ts', "import { LabError } from '../lab/errors';\nexport const e = LabError;\n");
    expect(runtime).toHaveLength(1);
  });

  it('lets only the port re-export the model vocabulary into the lab', async () => {
    const reexport = "export type { TrainConfig } from '../model/types';\n";
    expect(await layerErrors('src/lab/model.ts', reexport)).toEqual([]);
    expect(await layerErrors('src/lab/planted.ts', reexport)).toHaveLength(1);
    // `../model` from a lab subfolder is the lab's own port, not the model layer
    expect(await layerErrors('src/lab/questions/planted.ts', "import type { LabTokenizer } from '../model';\nexport type T = LabTokenizer;\n")).toEqual([]);
  });

  it('keeps share to types from the lab, and the page to the Worker protocol', async () => {
    expect(await layerErrors('src/share/planted.ts', "import type { EvalReport } from '../lab/evaluate';\nexport type R = EvalReport;\n")).toEqual([]);
    expect(await layerErrors('src/share/planted.ts', "import { wilson } from '../lab/metrics';\nexport const w = wilson;\n")).toHaveLength(1);
    expect(await layerErrors('src/ui/state/planted.ts', "import type { Results } from '../../worker/protocol';\nexport type R = Results;\n")).toEqual([]);
    expect(await layerErrors('src/ui/state/planted.ts', "import { probe } from '../../lab/probe';\nexport const p = probe;\n")).toHaveLength(1);
  });
});
