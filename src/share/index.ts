export * from './types';
export { LIMITS, readPlanJson, sharedResultSchema, validateSharedResult, type PlanDocument } from './schema';
export { SHARE_PREFIX, checkResult, decodeShare, encodeShare, roundForShare, shareUrl, type DecodeResult, type ShareError, type ShareErrorCode } from './codec';
export * from './derive';
export * from './records';
export { RECIPE_RESULTS_FORMAT, isRecipeResults, recipeToShared, type RecipeImport } from './recipe-results';
