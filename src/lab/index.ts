/** The lab's public API: plain TypeScript, no DOM, no GPU types; a model only through `LabModel`. */
export * from './errors';
export * from './model';
export * from './questions';
export * from './splits';
export * from './metrics';
export * from './prompts';
export * from './probe';
export * from './intervene';
export * from './train';
export * from './evaluate';
export * from './experiment';
export * from './manifest';
export * from './recipe';
export { sha256Hex } from './hash';
export { rng, shuffled, subSeed, type Rng } from './random';
