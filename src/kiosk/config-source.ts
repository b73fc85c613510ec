// Which config a kiosk starts on. The file is the floor; a config the hub
// pushed later (persisted in the store) wins when it is for this kiosk, newer
// and still valid; if not, the last-known-good copy; else the file.
import { validateKioskConfig } from '../config/validate.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import type { KioskStore } from '../store/kiosk-store.js';
import type { Logger } from '../core/log.js';

export function chooseStartConfig(
  fromFile: KioskConfig,
  store: KioskStore,
  log: Logger,
): { config: KioskConfig; source: 'file' | 'store' | 'lkg' } {
  for (const [source, doc] of [
    ['store', store.config.data.config],
    ['lkg', store.lkg.data.config],
  ] as const) {
    if (!doc || doc.id !== fromFile.id || doc.configVersion <= fromFile.configVersion) continue;
    const v = validateKioskConfig(doc);
    if (v.ok) return { config: v.value, source };
    log.error({ source, errors: v.errors }, 'stored config is invalid; not used');
  }
  return { config: fromFile, source: 'file' };
}
