// The admission of incoming requests (what a stranger can make the kiosk hold
// open) and the bounded store of where requests came from.
import { strict as assert } from 'node:assert';
import { RequestAdmission } from '../../src/intercom/request-admission.js';
import { ResponseRoutes, type Arrival } from '../../src/intercom/transports/routing.js';

const stranger: Arrival = { transport: 'udp', host: '10.0.0.66', port: 5060 };
const registrar: Arrival = { transport: 'udp', host: '10.0.0.1', port: 5060 };

function request(method: string, branch: string): string {
  return `${method} sip:kiosk@10.0.0.9 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.66;branch=${branch}\r\nCSeq: 1 ${method}\r\n\r\n`;
}

describe('request admission', () => {
  function rig(open: number) {
    const reports: number[] = [];
    const openBranches = new Set(['z9hG4bKopen']);
    const a = new RequestAdmission({
      open: () => open,
      has: (b) => openBranches.has(b),
      trusted: (from) => from === registrar,
      report: (n) => reports.push(n),
      maxOpen: 64,
      reportEveryMs: 60_000,
    });
    return { a, reports };
  }

  it('admits every request while fewer than the limit are open', () => {
    const { a } = rig(63);
    assert.equal(a.admit(request('INVITE', 'z9hG4bK1'), stranger), true);
    assert.equal(a.dropped, 0);
  });

  it('at the limit drops a stranger\'s new INVITE, reports the first at once and counts the rest', () => {
    const { a, reports } = rig(64);
    assert.equal(a.admit(request('INVITE', 'z9hG4bK1'), stranger), false);
    assert.equal(a.admit(request('INVITE', 'z9hG4bK2'), stranger), false);
    assert.equal(a.dropped, 2);
    assert.deepEqual(reports, [1], 'one report per interval');
  });

  it('at the limit still admits the registrar\'s INVITE, a retransmission of an open one, and every other method', () => {
    const { a } = rig(1000);
    assert.equal(a.admit(request('INVITE', 'z9hG4bK1'), registrar), true);
    assert.equal(a.admit(request('INVITE', 'z9hG4bKopen'), stranger), true);
    for (const m of ['ACK', 'BYE', 'CANCEL', 'INFO', 'OPTIONS']) assert.equal(a.admit(request(m, 'z9hG4bK9'), stranger), true, m);
    assert.equal(a.dropped, 0);
  });
});

describe('response routes', () => {
  it('stay bounded under a flood, and a ringing INVITE keeps its route through 10,000 other messages', () => {
    const r = new ResponseRoutes();
    r.remember(request('INVITE', 'z9hG4bKcall'), registrar);
    for (let i = 0; i < 10_000; i++) r.remember(request('OPTIONS', `z9hG4bKo${i}`), stranger);
    assert.deepEqual(r.request('z9hG4bKo9999'), stranger, 'the newest are kept');
    for (let i = 0; i < 10_000; i++) r.remember(`SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKr${i}\r\n\r\n`, stranger);
    assert.ok(r.size <= 2 * ResponseRoutes.CAP + 2 * ResponseRoutes.INVITE_CAP, `${r.size} entries`);
    assert.deepEqual(r.request('z9hG4bKcall'), registrar);
    assert.deepEqual(r.response('z9hG4bKr9999'), stranger);
    assert.equal(r.request('z9hG4bKo0'), undefined, 'the oldest went');
  });

  it('a flood of INVITEs pushes out old INVITE routes only after 2 * 256 newer ones', () => {
    const r = new ResponseRoutes();
    r.remember(request('INVITE', 'z9hG4bKcall'), registrar);
    for (let i = 0; i < ResponseRoutes.INVITE_CAP; i++) r.remember(request('INVITE', `z9hG4bKi${i}`), stranger);
    assert.deepEqual(r.request('z9hG4bKcall'), registrar);
    for (let i = 0; i < ResponseRoutes.INVITE_CAP; i++) r.remember(request('INVITE', `z9hG4bKj${i}`), stranger);
    assert.equal(r.request('z9hG4bKcall'), undefined);
  });
});
