// What the screen shows besides call state: set by hub commands (through the
// hub link) or by local logic, shown by the display. Text is per language.
import type { CallKind } from '../intercom/events.js';

export type LocalText = { en: string; 'zh-CN'?: string };
export type CrowdLevel = 'none' | 'blue' | 'yellow' | 'orange' | 'red';

export interface DisplayEvents {
  /** Incident or evacuation declared for this kiosk's zone (active=false is the all-clear). */
  'incident.mode': { active: boolean; kind: 'incident' | 'evacuation'; text?: LocalText; blockedExits?: string[]; colour?: Exclude<CrowdLevel, 'none'>; level?: LocalText };
  'drill.mode': { active: boolean };
  'crowd.level': { level: CrowdLevel };
  /** A message pushed to the screen by the hub. */
  'screen.message': { id: string; text: LocalText; until?: string };
  /** "Help is on the way": from the desk during or after a call. */
  'desk.info': { callId?: string; etaMin?: number; responder?: string };
  'chat.fromDesk': { callId?: string; text: string; at: string };
  /** typed by the caller on the screen; lang: the screen's language at that moment (the desk answers in it) */
  'chat.toDesk': { callId?: string; text: string; at: string; lang?: string };
  /** The language the visitor reads the screen in (sent when the screen connects and when the visitor switches). */
  'screen.language': { lang: string };
  'call.rating': { callId: string; rating: 1 | 2 | 3 | 4 | 5 };
  /** The screen asks for a call (same path as a GPIO button). */
  'screen.call': { kind: CallKind; category?: string };
}
