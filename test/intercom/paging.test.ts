// The paging decision (src/intercom/paging.ts) on parsed INVITEs: which
// requests are pages, and which may play. The whole path with a real caller
// is in sip-paging.test.ts.
import { strict as assert } from 'node:assert';
import { Core } from 'sip.js';
import { isPageRequest, pageVerdict, takePagingUri, type PagingConfig } from '../../src/intercom/paging.js';
import type { Trust } from '../../src/intercom/trust.js';

const log = { log() {}, debug() {}, warn() {}, error() {} } as never;

function invite(ruriUser: string, toUser = ruriUser, fromUser = 'dispatcher'): Core.IncomingRequestMessage {
  const text = [
    `INVITE sip:${ruriUser}@10.0.0.9:5060 SIP/2.0`,
    'Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-1',
    `From: <sip:${fromUser}@10.0.0.5>;tag=1`,
    `To: <sip:${toUser}@site.example>`,
    'Call-ID: 1@10.0.0.5',
    'CSeq: 1 INVITE',
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  return Core.Parser.parseMessage(text, log) as Core.IncomingRequestMessage;
}

const paging: PagingConfig = { user: 'page', from: [], priority: 100, volume: 1, maxDurationS: 300 };
const trusted: Trust = { trusted: true, reason: 'trusted-source', via: 'udp:10.0.0.5:5060' };
const stranger: Trust = { trusted: false, via: 'udp:10.0.0.66:5060' };
const idle = { alarmOpen: false, ringing: false };

describe('intercom: paging decision', () => {
  it('takes a request dialled to the paging user as the account\'s (sip.js would answer 404) and remembers it', () => {
    const req = invite('page');
    assert.equal(takePagingUri(req, paging, 'conc-north'), true);
    assert.equal(req.ruri?.user, 'conc-north');
    assert.equal(req.ruri?.host, '10.0.0.9');
    assert.equal(isPageRequest(req, paging, true), true);
  });

  it('leaves other requests alone; without sip.paging nothing is a page', () => {
    const req = invite('conc-north');
    assert.equal(takePagingUri(req, paging, 'conc-north'), false);
    assert.equal(takePagingUri(invite('page'), undefined, 'conc-north'), false);
    assert.equal(isPageRequest(req, paging, false), false);
  });

  it('through a proxy that rewrote the Request-URI to the contact, the To header names the paging address', () => {
    const req = invite('conc-north', 'page');
    assert.equal(takePagingUri(req, paging, 'conc-north'), false);
    assert.equal(isPageRequest(req, paging, false), true);
  });

  it('plays a trusted page on an idle kiosk', () => {
    assert.deepEqual(pageVerdict(invite('page'), paging, trusted, idle), { ok: true });
  });

  it('refuses an untrusted page with 403 whatever its From says, before it says anything about the kiosk\'s state', () => {
    const v = pageVerdict(invite('page', 'page', 'desk'), { ...paging, from: ['desk@10.0.0.5'] }, stranger, { alarmOpen: true, ringing: false });
    assert.deepEqual(v, { ok: false, code: 403, reason: 'the call did not arrive over a trusted path (udp:10.0.0.66:5060)' });
  });

  it('narrows trusted callers by sip.paging.from', () => {
    const only = { ...paging, from: ['desk@10.0.0.5'] };
    assert.equal(pageVerdict(invite('page', 'page', 'desk'), only, trusted, idle).ok, true);
    const v = pageVerdict(invite('page'), only, trusted, idle);
    assert.equal(v.ok, false);
    assert.equal(!v.ok && v.code, 403);
  });

  it('486 while an alarm is open, a call is in progress or ringing, or another page plays', () => {
    const busy = (state: Parameters<typeof pageVerdict>[3]) => {
      const v = pageVerdict(invite('page'), paging, trusted, state);
      return v.ok ? 'ok' : `${v.code} ${v.reason}`;
    };
    assert.equal(busy({ ...idle, alarmOpen: true, call: 'call' }), '486 an alarm is open');
    assert.equal(busy({ ...idle, call: 'call' }), '486 a call is in progress');
    assert.equal(busy({ ...idle, call: 'page' }), '486 another page is playing');
    assert.equal(busy({ ...idle, ringing: true }), '486 a call is ringing');
  });
});
