// Should an incoming call be answered without a person at the kiosk? Only
// when it comes from an allowed source AND asks for it by one of the usual
// means: RFC 5373 Answer-Mode / Priv-Answer-Mode: Auto, Call-Info with
// answer-after=0, or Alert-Info with info=alert-autoanswer.
import type { IncomingRequestMessage } from 'sip.js/lib/core/messages/incoming-request-message.js';

export function asksForAutoAnswer(req: IncomingRequestMessage): boolean {
  const all = (name: string) => req.getHeaders(name).join(',');
  if (/^\s*auto\b/i.test(all('Answer-Mode')) || /^\s*auto\b/i.test(all('Priv-Answer-Mode'))) return true;
  if (/answer-after\s*=\s*0\b/i.test(all('Call-Info'))) return true;
  if (/info\s*=\s*alert-autoanswer/i.test(all('Alert-Info'))) return true;
  return false;
}

/** Patterns are full SIP URIs or "user@host"; "*@host" allows any user on a host. */
export function sourceAllowed(req: IncomingRequestMessage, allowed: string[]): boolean {
  const uri = req.from.uri;
  const user = uri.user ?? '';
  const host = uri.host;
  const candidates = [`${user}@${host}`, `${user}@${host}:${uri.port ?? ''}`.replace(/:$/, '')];
  return allowed.some((p) => {
    const pat = p.replace(/^sips?:/i, '').toLowerCase();
    if (pat.startsWith('*@')) return host.toLowerCase() === pat.slice(2).split(':')[0];
    return candidates.some((c) => c.toLowerCase() === pat);
  });
}
