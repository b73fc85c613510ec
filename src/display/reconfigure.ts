// The screen and a new config, live: languages and the default language,
// the degraded wording, the site, zone and location names go to the page at
// once (it follows a new default language); a new wayfinding map or floor
// plan is loaded and open pages reload. Switching the screen on or off, or a
// display setting not handled here, needs a restart.
import type { Reconfigured } from '../core/capability.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import { canonical, differsOutside } from '../kiosk/config-diff.js';
import type { Screen } from './screen.js';

const LIVE = ['languages', 'defaultLanguage', 'degradedText', 'wayfinding'];

/** What the screen shows from the config. */
const shown = (c: KioskConfig) => canonical([c.display, c.site, c.zone, c.location]);

export function reconfigureDisplay(screen: Screen | undefined, prev: KioskConfig, next: KioskConfig): Reconfigured {
  if (prev.display.enabled !== next.display.enabled) return 'restart';
  if (differsOutside(prev.display, next.display, [...LIVE, 'enabled'])) return 'restart';
  if (!screen || shown(prev) === shown(next)) return 'unchanged';
  screen.update(next);
  return 'applied';
}
