// Which config a kiosk starts on. The file is the floor; a config the hub
// pushed later (persisted in the store) wins when it is for this kiosk, newer
// and still valid; if not, the last-known-good copy; else the file. A pushed
// config still on trial wins only if the last stop was planned (a restart to
// apply it, or a clean stop): after a crash or a power cut during its health
// window it counts as failed and the kiosk starts on the last-known-good.
import { validateKioskConfig } from '../config/validate.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import type { KioskStore } from '../store/kiosk-store.js';
import type { Logger } from '../core/log.js';
import type { Trial } from './config-trial.js';

export interface StartConfig {
  config: KioskConfig;
  source: 'file' | 'store' | 'lkg';
  /** the config on trial that was not started, and why */
  rolledBack?: { version: number; reason: string };
}

export function chooseStartConfig(fromFile: KioskConfig, store: KioskStore, log: Logger, trial?: Trial): StartConfig {
  const usable = (doc: KioskConfig | null | undefined, source: string): KioskConfig | undefined => {
    if (!doc || doc.id !== fromFile.id || doc.configVersion <= fromFile.configVersion) return undefined;
    const v = validateKioskConfig(doc);
    if (v.ok) return v.value;
    log.error({ source, errors: v.errors }, 'stored config is invalid; not used');
    return undefined;
  };
  const stored = usable(store.config.data.config, 'store');
  const lkg = () => {
    const c = usable(store.lkg.data.config, 'lkg');
    return c ? { config: c, source: 'lkg' as const } : { config: fromFile, source: 'file' as const };
  };
  if (stored && trial && trial.version === stored.configVersion && !trial.planned) {
    return { ...lkg(), rolledBack: { version: trial.version, reason: 'the kiosk stopped unexpectedly during the health window' } };
  }
  if (stored) return { config: stored, source: 'store' };
  return lkg();
}
