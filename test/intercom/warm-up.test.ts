// The call set-up warm-up (src/intercom/warm-up.ts) runs the INVITE building,
// the 200 OK parsing, our SDP and the RTP stream start offline: nothing may
// leave the process, neither SIP nor RTP, and the user agent is left as it was.
import { strict as assert } from 'node:assert';
import dgram from 'node:dgram';
import { EmitterImpl, TransportState, UserAgent, type Transport } from 'sip.js';
import { loopbackCall, scavengeNow, warmCallPath, warmCodecs } from '../../src/intercom/warm-up.js';
import { CODECS } from '../../src/audio/codecs/index.js';
import { alawEncode, encodingTableBuilt, ulawEncode } from '../../src/audio/codecs/g711.js';
import { codecList } from '../../src/intercom/media/index.js';
import { sleep } from '../helpers/tmp.js';

const sent: string[] = [];

/** Counts every datagram any socket sends until restore(): RTP or SIP leaving the process shows here. */
function spyDatagrams(): { sends: unknown[]; restore(): void } {
  const sends: unknown[] = [];
  const orig = dgram.Socket.prototype.send;
  dgram.Socket.prototype.send = function (this: dgram.Socket, ...args: unknown[]) {
    sends.push(args);
    return (orig as (...a: unknown[]) => void).apply(this, args);
  } as typeof orig;
  return { sends, restore: () => void (dgram.Socket.prototype.send = orig) };
}

/** A transport that records what sip.js asks it to send. */
class RecordingTransport implements Transport {
  readonly protocol = 'UDP';
  readonly stateChange = new EmitterImpl<TransportState>();
  state = TransportState.Connected;
  onConnect: (() => void) | undefined;
  onDisconnect: ((error?: Error) => void) | undefined;
  onMessage: ((message: string) => void) | undefined;
  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}
  async dispose(): Promise<void> {}
  isConnected(): boolean {
    return true;
  }
  async send(message: string): Promise<void> {
    sent.push(message);
  }
}

describe('call set-up warm-up', () => {
  it('runs every codec once: G.711\'s encoding tables are built, and encode as sample by sample', () => {
    const codecs = codecList(['PCMU', 'PCMA', 'G722']);
    warmCodecs(codecs);
    assert.ok(encodingTableBuilt('PCMU') && encodingTableBuilt('PCMA'), 'the first packet no longer builds a table');
    const pcm = Int16Array.from({ length: 160 }, (_, i) => Math.round(12000 * Math.sin(i / 5)));
    for (const [c, one] of [[CODECS.PCMU(), ulawEncode], [CODECS.PCMA(), alawEncode]] as const) {
      const out = new Uint8Array(160);
      c.encodeInto(pcm, out, 0);
      assert.deepEqual([...out], [...pcm].map(one), c.name);
    }
  });

  it('ends with a scavenge, without exposing gc() to the program', async () => {
    const { PerformanceObserver } = await import('node:perf_hooks');
    const kinds: number[] = [];
    const obs = new PerformanceObserver((list) => list.getEntries().forEach((e) => kinds.push((e as { detail?: { kind?: number } }).detail?.kind ?? 0)));
    obs.observe({ entryTypes: ['gc'] });
    const hadGc = typeof (globalThis as { gc?: unknown }).gc;
    assert.equal(scavengeNow(), true);
    await sleep(50);
    obs.disconnect();
    assert.ok(kinds.includes(1), `a minor GC (scavenge) happened: ${kinds.join(',')}`);
    assert.equal(typeof (globalThis as { gc?: unknown }).gc, hadGc, 'gc() stays out of the global scope');
  });

  it('holds one whole call in the process: INVITE, 100, 200, ACK, BYE, 200, and not one datagram', async () => {
    const { sends, restore } = spyDatagrams();
    try {
      const { sent, answered } = await loopbackCall(codecList(['PCMU']));
      assert.deepEqual(sent.map((m) => m.slice(0, m.indexOf(' '))), ['INVITE', 'ACK', 'BYE']);
      assert.deepEqual(answered.map((m) => m.split('\r\n')[0]), ['SIP/2.0 100 Trying', 'SIP/2.0 200 OK', 'SIP/2.0 200 OK']);
      assert.match(sent[0]!, /\r\nm=audio \d+ RTP\/AVP 0/, 'our offer');
      await sleep(100); // a media clock tick or two after the call ended
      assert.equal(sends.length, 0, 'no datagram sent (the answer holds the media at 0.0.0.0)');
    } finally {
      restore();
    }
  });

  it('builds, parses and starts a call path without sending SIP or RTP', async () => {
    // Anything sent to 0.0.0.0 or to the desk would reach no one; a socket on the port an RTP packet could use proves nothing
    // either, so what sip.js sends is recorded and the RTP stream's sends are counted through dgram itself.
    const { sends, restore } = spyDatagrams();
    try {
      const ua = new UserAgent({ uri: UserAgent.makeURI('sip:kiosk@127.0.0.1'), transportConstructor: RecordingTransport, logBuiltinEnabled: false });
      const { parsed, unparsed } = await warmCallPath(ua, codecList(['PCMU', 'PCMA', 'G722']));
      assert.equal(unparsed, 0, 'every message of the warm-up parses');
      assert.ok(parsed >= 40, `the call's messages parsed in several rounds (${parsed})`);
      await sleep(100); // a media clock tick or two after the stream closed
      assert.deepEqual(sent, [], 'no SIP message sent');
      assert.equal(sends.length, 0, 'no datagram sent');
      assert.equal(Object.keys(ua._sessions).length, 0, 'the unsent INVITE is disposed of');
    } finally {
      restore();
    }
  });
});
