// The model layer's seeded generator is the engine's (mulberry32, uniform in [-1, 1)): one implementation.
export { uniformPm1 } from '../engine/random';
