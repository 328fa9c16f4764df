/** A .wat kernel, assembled at build time by scripts/vite-wat.mjs: the WebAssembly module's bytes. */
declare module '*.wat' {
  const bytes: Uint8Array;
  export default bytes;
}
