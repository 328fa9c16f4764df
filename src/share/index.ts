export * from './types';
export { LIMITS, sharedResultSchema, validateSharedResult } from './schema';
export { SHARE_PREFIX, checkResult, decodeShare, encodeShare, roundForShare, shareUrl, type DecodeResult, type ShareError, type ShareErrorCode } from './codec';
export * from './derive';
export * from './records';
export { RECIPE_RESULTS_FORMAT, isRecipeResults, recipeToShared, type RecipeImport } from './recipe-results';
