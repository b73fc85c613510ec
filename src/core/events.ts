// The kiosk's event map: the contract between capabilities. Each capability
// owns its slice (declared next to its code) and this file only joins them.
import type { IoEvents } from '../io/events.js';
import type { IntercomEvents } from '../intercom/events.js';
import type { AudioEvents } from '../audio/events.js';
import type { HubLinkEvents } from '../hublink/events.js';
import type { HealthEvents } from '../health/events.js';
import type { DisplayEvents } from '../display/events.js';
import type { AlarmEvents } from '../alarm/events.js';
import type { SupervisionEvents } from '../supervision/events.js';

export type KioskEvents = IoEvents & IntercomEvents & AudioEvents & HubLinkEvents & HealthEvents & DisplayEvents & AlarmEvents & SupervisionEvents;
