/** Models that ship with the lab itself (no download): loaded through the same checked path as Hub models. */
export const TOY_WORLD_ID = 'builtin:toy-world';

/** Where a built-in model's files live, relative to the app's base URL (or the repository's public/). */
export const BUILTIN_MODELS: Record<string, string> = {
  [TOY_WORLD_ID]: 'models/toy-world',
};

export function isBuiltin(id: string): boolean {
  return id in BUILTIN_MODELS;
}
