// A Vite plugin: `import bytes from './kernel.wat'` gives the module assembled by wabt (the WebAssembly Binary
// Toolkit) as a Uint8Array, so kernels are kept as readable .wat files (like the .wgsl ones) and no binary is
// committed. Runs at build time (app, Node build, tests); the browser never loads wabt.
import { readFile } from 'node:fs/promises';
import wabtInit from 'wabt';

let wabt;

export function wat() {
  return {
    name: 'ift-lab-wat',
    async load(id) {
      if (!id.endsWith('.wat')) return null;
      wabt ??= await wabtInit();
      const text = await readFile(id, 'utf8');
      const mod = wabt.parseWat(id, text, { simd: true });
      try {
        mod.validate();
        const { buffer } = mod.toBinary({});
        return `export default Uint8Array.from(atob(${JSON.stringify(Buffer.from(buffer).toString('base64'))}), (c) => c.charCodeAt(0));\n`;
      } finally {
        mod.destroy();
      }
    },
  };
}
