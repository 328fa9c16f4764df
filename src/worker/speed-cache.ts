/**
 * This device's measured speed on a model's shapes, kept (issue 26): the front page's estimate before the click,
 * the run's own estimate and a resumed run's all read one timing, so a reload or a resume does not re-time the
 * device (on a software GPU that took a minute). Keyed by model, backend, adapter description and shapes; kept
 * in the store's `settings` for a week (a browser or driver update changes the speed, and a week is soon enough).
 */
import { timeBootstrap } from '../lab/estimate';
import type { DeviceSpeed, SpeedShapes } from '../lab/model';
import type { EngineModel } from '../model/engine-model';
import { measureSpeed } from '../model/speed';
import type { Store, StoredRecord } from '../store/types';

const PREFIX = 'speed:';
const MAX_AGE_MS = 7 * 24 * 3600 * 1000;

interface SpeedRecord extends StoredRecord {
  speed: DeviceSpeed;
}

const memory = new Map<string, { speed: DeviceSpeed; at: number }>();

function keyOf(model: EngineModel, shapes: SpeedShapes): string {
  const r = model.core.rt.summary();
  return `${PREFIX}${model.id}|${model.precision}|${r.backend}|${r.description}|${JSON.stringify(shapes)}`;
}

/** The speed on these shapes: kept from an earlier timing on this device when there is one, else measured now. */
export async function cachedSpeed(store: Store | null, model: EngineModel, shapes: SpeedShapes): Promise<{ speed: DeviceSpeed; measuredAt: number; cached: boolean }> {
  const key = keyOf(model, shapes);
  const m = memory.get(key);
  if (m && Date.now() - m.at < MAX_AGE_MS) return { speed: m.speed, measuredAt: m.at, cached: true };
  const kept = await store?.get<SpeedRecord>('settings', key).catch(() => undefined);
  if (kept?.speed && Date.now() - kept.createdAt < MAX_AGE_MS) {
    memory.set(key, { speed: kept.speed, at: kept.createdAt });
    return { speed: kept.speed, measuredAt: kept.createdAt, cached: true };
  }
  const speed: DeviceSpeed = { ...(await measureSpeed(model, shapes)), bootstrapSecondsPerUnit: timeBootstrap() };
  const at = Date.now();
  memory.set(key, { speed, at });
  await store?.put('settings', { id: key, createdAt: at, speed } satisfies SpeedRecord).catch(() => undefined);
  return { speed, measuredAt: at, cached: false };
}
