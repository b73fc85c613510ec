// SIP paging (sip.paging): a dispatcher's phone or a paging server calls the
// kiosk's paging address and the kiosk answers at once, receive-only, and
// plays the call in the page channel as a live page (src/audio/sip-page-output.ts).
// What a page may do is decided here: it must arrive over a trusted path
// (trust.ts, as auto-answer: never by its From header), come from an allowed
// caller if sip.paging.from names any, and find the kiosk free: an alarm, a
// call (or one ringing) or another page come first. A page never delays an
// alarm: the alarm's call ends it (Intercom.preempt).
import type { IncomingRequestMessage } from 'sip.js/lib/core/messages/incoming-request-message.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import { sourceAllowed } from './auto-answer.js';
import type { Trust } from './trust.js';

export type PagingConfig = NonNullable<KioskConfig['sip']['paging']>;

/**
 * Is this INVITE addressed to the paging user? The Request-URI says so on a call straight to the kiosk; through a
 * proxy that rewrote it to the kiosk's registered contact, the To header still names the address dialled. Which
 * address was dialled only chooses the handling: whether the call may page is decided by how it arrived.
 */
export function isPageRequest(req: IncomingRequestMessage, paging: PagingConfig): boolean {
  const user = paging.user.toLowerCase();
  return (req.ruri?.user ?? '').toLowerCase() === user || (req.to.uri.user ?? '').toLowerCase() === user;
}

export interface PageState {
  /** an alarm is open (a press, a call-back, one between attempts) */
  alarmOpen: boolean;
  /** the call in progress: a page, or any other call */
  call?: 'page' | 'call';
  /** an incoming call rings on the screen */
  ringing: boolean;
}

export type PageVerdict = { ok: true } | { ok: false; code: 403 | 486; reason: string };

/** May this paging INVITE play now? Untrusted first: a stranger learns nothing of the kiosk's state. */
export function pageVerdict(req: IncomingRequestMessage, paging: PagingConfig, trust: Trust, state: PageState): PageVerdict {
  if (!trust.trusted) return { ok: false, code: 403, reason: `the call did not arrive over a trusted path (${trust.via})` };
  if (paging.from.length > 0 && !sourceAllowed(req, paging.from)) {
    return { ok: false, code: 403, reason: `caller ${req.from.uri.user ?? ''}@${req.from.uri.host} is not in sip.paging.from` };
  }
  if (state.alarmOpen) return { ok: false, code: 486, reason: 'an alarm is open' };
  if (state.call === 'page') return { ok: false, code: 486, reason: 'another page is playing' };
  if (state.call) return { ok: false, code: 486, reason: 'a call is in progress' };
  if (state.ringing) return { ok: false, code: 486, reason: 'a call is ringing' };
  return { ok: true };
}
