// RFC 3261 reliability over UDP (src/intercom/transports/reliability.ts):
// a relay between the kiosk and a sipp peer drops chosen datagrams, and the
// call must still complete because the right side retransmits.
import { strict as assert } from 'node:assert';
import { startSipp, type Sipp } from '../../src/testbed/sipp.js';
import { stopAll } from '../../src/testbed/proc.js';
import { UdpRelay } from '../../src/testbed/udp-relay.js';
import { callRig, firstCall, scenario, targets, type CallRig } from './helpers.js';
import { relayedDesk, sippLog } from './relay.js';
import { until } from '../helpers/tmp.js';

/** A sipp caller that calls the kiosk through a relay. */
async function relayedCaller(rig: CallRig, name: string, relay: UdpRelay): Promise<Sipp> {
  return startSipp({
    scenario: scenario(name),
    args: [`127.0.0.1:${relay.peerSidePort}`, '-s', 'desk', '-set', 'kiosk', 'conc-north', '-set', 'relay_port', String(relay.kioskSidePort), '-m', '1', '-rtp_echo'],
  });
}

async function relayToKiosk(rig: CallRig): Promise<UdpRelay> {
  const kioskPort = await rig.sipPort();
  return new UdpRelay({ kiosk: { host: '127.0.0.1', port: kioskPort } }).start();
}

describe('intercom: SIP over UDP with lost datagrams', function () {
  this.timeout(60_000);
  const relays: UdpRelay[] = [];
  afterEach(async () => {
    relays.splice(0).forEach((r) => r.close());
    await stopAll();
  });

  it('retransmits a lost INVITE (Timer A) and the call connects', async () => {
    const { desk, relay, uri } = await relayedDesk('relay-desk-answer-bye.xml');
    relays.push(relay);
    relay.dropNext('toPeer', /^INVITE /, 2);
    const rig = await callRig(targets([{ uri, ringTimeoutS: 10 }]));
    await rig.press('emergency');
    await rig.waitState('connected', 10_000);
    await rig.waitState('ended', 10_000);
    assert.equal(await desk.proc.exited, 0, sippLog(desk));
    const invites = relay.seen({ dir: 'toPeer', line: /^INVITE / });
    assert.ok(invites.length >= 3, `INVITE sent ${invites.length} times`);
    // T1 = 500 ms, then 2*T1: the third copy leaves about 1.5 s after the first.
    const gap1 = invites[1]!.at - invites[0]!.at;
    const gap2 = invites[2]!.at - invites[1]!.at;
    assert.ok(gap1 >= 450 && gap2 >= 950 && gap2 > gap1, `gaps ${gap1.toFixed(0)} and ${gap2.toFixed(0)} ms`);
    // The desk hung up without acknowledging, so the alarm goes on: the first call is the one under test.
    assert.deepEqual(firstCall(rig), ['calling', 'ringing', 'connected', 'ended(hung up)']);
  });

  it('retransmits a lost CANCEL (Timer E) after the ring timeout', async () => {
    const { desk, relay, uri } = await relayedDesk('relay-desk-no-answer.xml');
    relays.push(relay);
    relay.dropNext('toPeer', /^CANCEL /, 1);
    const rig = await callRig({ ...targets([{ uri, ringTimeoutS: 1 }]), sip: { ...targets([{ uri, ringTimeoutS: 1 }]).sip, emergencyCancellable: true } });
    await rig.press('emergency');
    await until(() => rig.states().some((s) => /no answer/.test(s)), 10_000, 'ring timeout');
    assert.equal(await desk.proc.exited, 0, sippLog(desk));
    const cancels = relay.seen({ dir: 'toPeer', line: /^CANCEL / });
    assert.ok(cancels.length >= 2 && cancels[0]!.dropped && !cancels[1]!.dropped, relay.log.map((d) => `${d.dir} ${d.line} ${d.dropped}`).join('\n'));
  });

  it('answers a retransmitted BYE with its 200 again when that 200 was lost (Timer J), not with 481', async () => {
    const { desk, relay, uri } = await relayedDesk('relay-desk-answer-bye.xml');
    relays.push(relay);
    relay.dropNext('toPeer', /^SIP\/2\.0 200[\s\S]*CSeq:\s*\d+ BYE/, 1);
    const rig = await callRig(targets([{ uri, ringTimeoutS: 10 }]));
    await rig.press('emergency');
    await rig.waitState('ended', 15_000);
    assert.equal(await desk.proc.exited, 0, sippLog(desk));
    const byes = relay.seen({ dir: 'toKiosk', line: /^BYE / });
    assert.ok(byes.length >= 2, `BYE seen ${byes.length} times`);
    const answers = relay.seen({ dir: 'toPeer', line: /^SIP\/2\.0 /, method: 'BYE' });
    assert.ok(answers.length >= 2 && answers.every((a) => / 200 /.test(a.line)), answers.map((a) => a.line).join(', '));
  });

  it('retransmits its own lost BYE (Timer E) when the kiosk ends the call', async () => {
    const { desk, relay, uri } = await relayedDesk('relay-desk-answer-wait-bye.xml');
    relays.push(relay);
    relay.dropNext('toPeer', /^BYE /, 1);
    const rig = await callRig({ sip: { ...targets([{ uri, ringTimeoutS: 10 }]).sip, callTimeLimitS: 1 } });
    await rig.press('emergency');
    await rig.waitState('connected', 10_000);
    assert.equal(await desk.proc.exited, 0, sippLog(desk));
    const byes = relay.seen({ dir: 'toPeer', line: /^BYE / });
    assert.ok(byes.length >= 2 && byes[0]!.dropped, `BYE sent ${byes.length} times`);
  });

  it('sends its ACK again when a non-2xx final is retransmitted (the first ACK was lost)', async () => {
    const busy = await relayedDesk('relay-desk-busy.xml');
    relays.push(busy.relay);
    busy.relay.dropNext('toPeer', /^ACK /, 1);
    const rig = await callRig({ ...targets([{ uri: busy.uri }]), sip: { ...targets([{ uri: busy.uri }], [{ uri: busy.uri }]).sip } });
    await rig.press('information');
    await until(() => rig.states().some((s) => s.includes('486')), 10_000, '486');
    assert.equal(await busy.desk.proc.exited, 0, sippLog(busy.desk));
    const acks = busy.relay.seen({ dir: 'toPeer', line: /^ACK / });
    assert.ok(acks.length >= 2 && acks[0]!.dropped && !acks[1]!.dropped, `ACK sent ${acks.length} times`);
  });

  it('a lost 200 OK and a lost ACK: the desk retransmits its 200 and the kiosk acknowledges it again', async () => {
    const { desk, relay, uri } = await relayedDesk('relay-desk-answer-bye.xml');
    relays.push(relay);
    relay.dropNext('toKiosk', /^SIP\/2\.0 200[\s\S]*CSeq:\s*\d+ INVITE/, 1);
    relay.dropNext('toPeer', /^ACK /, 1);
    const rig = await callRig(targets([{ uri, ringTimeoutS: 10 }]));
    await rig.press('emergency');
    await rig.waitState('ended', 15_000);
    assert.equal(await desk.proc.exited, 0, sippLog(desk));
    assert.ok(relay.seen({ dir: 'toPeer', line: /^ACK / }).length >= 2);
  });

  it('as the called side: retransmits its 487 until the caller ACKs it (Timer G), and its 200 to a retransmitted CANCEL', async () => {
    const rig = await callRig({});
    const relay = await relayToKiosk(rig);
    relays.push(relay);
    relay.dropNext('toPeer', /^SIP\/2\.0 487/, 1);
    relay.dropNext('toPeer', /^SIP\/2\.0 200[\s\S]*CSeq:\s*\d+ CANCEL/, 1);
    const caller = await relayedCaller(rig, 'relay-caller-cancel.xml', relay);
    assert.equal(await caller.proc.exited, 0, sippLog(caller));
    const finals = relay.seen({ dir: 'toPeer', line: /^SIP\/2\.0 487/ });
    assert.ok(finals.length >= 2 && finals[0]!.dropped, `487 sent ${finals.length} times`);
    const cancelOk = relay.seen({ dir: 'toPeer', line: /^SIP\/2\.0 200/, method: 'CANCEL' });
    assert.ok(cancelOk.length >= 2, `200 to CANCEL sent ${cancelOk.length} times`);
  });

  it('as the called side: a lost 200 OK is retransmitted until the ACK arrives', async () => {
    const rig = await callRig({ sip: { autoAnswerFrom: ['desk@127.0.0.1'], trustedSources: ['127.0.0.1'] } });
    const relay = await relayToKiosk(rig);
    relays.push(relay);
    relay.dropNext('toPeer', /^SIP\/2\.0 200[\s\S]*CSeq:\s*\d+ INVITE/, 1);
    relay.dropNext('toKiosk', /^ACK /, 1);
    const caller = await relayedCaller(rig, 'relay-caller-autoanswer.xml', relay);
    assert.equal(await caller.proc.exited, 0, sippLog(caller));
    await rig.waitState('ended', 5000);
    assert.ok(relay.seen({ dir: "toPeer", line: /^SIP\/2\.0 200/, method: "INVITE" }).length >= 3, relay.log.map((d) => `${d.at.toFixed(0)} ${d.dir} ${d.line} ${d.method} ${d.dropped}`).join("\n"));
  });
});
