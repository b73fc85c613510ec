// The intercom and a new config. What a call reads when it starts (desks,
// ring timeouts, cancel rule, time limit, auto-answer sources, door code,
// category, paging and the location headers) follows at once. Everything else in the
// SIP section (account, registrars, transports, ports, codecs) lives in the
// user agent: the intercom builds a new one, which re-registers. A call in
// progress is never dropped for it: the rebuild waits until the call ends.
import type { KioskConfig } from '../config/schema/kiosk.js';
import { differsOutside } from '../kiosk/config-diff.js';

/** Read by the call policy when a call starts: no new user agent needed. */
const READ_PER_CALL = ['targets', 'emergencyCancellable', 'callTimeLimitS', 'autoAnswerFrom', 'doorDtmf', 'category', 'paging'];

/** True when the change needs a new user agent (and so a new registration). */
export function needsNewUserAgent(prev: KioskConfig, next: KioskConfig): boolean {
  // The display name in From comes from the kiosk's name.
  return prev.name !== next.name || differsOutside(prev.sip, next.sip, READ_PER_CALL);
}
