// The supervision section with every default filled in, apart from its schema
// (supervision.ts): the kiosk imports this at run time, and the schema module
// would load TypeBox (about 200 modules, some 4 MB of heap) into a process that
// validates with validators compiled ahead of time (src/validators).
import type { SupervisionConfig } from './supervision.js';

/** The section with every default filled in (absent in older configs). */
export function supervisionConfig(c: Partial<SupervisionConfig> | undefined): SupervisionConfig & { jitterS: number } {
  const intervalS = c?.intervalS ?? 259_200;
  return {
    enabled: c?.enabled ?? true,
    intervalS,
    jitterS: c?.jitterS ?? Math.round(intervalS / 10),
    graceS: c?.graceS ?? 3600,
    target: c?.target ?? '',
    answerTimeoutMs: c?.answerTimeoutMs ?? 10_000,
    toneTimeoutMs: c?.toneTimeoutMs ?? 5000,
    dtmfTimeoutMs: c?.dtmfTimeoutMs ?? 3000,
    screenHeartbeatS: c?.screenHeartbeatS ?? 30,
    screenStartS: c?.screenStartS ?? 90,
    clockMaxOffsetMs: c?.clockMaxOffsetMs ?? 2000,
  };
}
