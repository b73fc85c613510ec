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
 * sip.js answers 404 to a Request-URI whose user is not the account's (RFC 3261 8.2.2.1). A request to the
 * paging user is ours too: its Request-URI is given the account's user before sip.js sees it, and the caller
 * remembers that it was dialled to the paging address. Returns whether it was.
 */
export function takePagingUri(req: IncomingRequestMessage, paging: PagingConfig | undefined, accountUser: string): boolean {
  const ruri = req.ruri;
  if (!paging || !ruri || ruri.user !== paging.user || paging.user === accountUser) return false;
  const ours = ruri.clone();
  ours.user = accountUser;
  req.ruri = ours;
  return true;
}

/**
 * Is this INVITE a page? Dialled to the paging user (takePagingUri) on a call straight to the kiosk; through a
 * proxy that rewrote the Request-URI to the kiosk's registered contact, the To header still names the address
 * dialled. Which address was dialled only chooses the handling: whether the call may page is decided by how it arrived.
 */
export function isPageRequest(req: IncomingRequestMessage, paging: PagingConfig, dialled: boolean): boolean {
  return dialled || req.to.uri.user === paging.user;
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
