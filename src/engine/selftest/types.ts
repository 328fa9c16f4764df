/** One kernel checked against its CPU reference on the current device (the app and e2e tests run these). */
export interface SelfTestResult {
  name: string;
  maxAbsError: number;
  tolerance: number;
  ok: boolean;
}
