// The call set-up warm-up (src/intercom/warm-up.ts) runs the INVITE building,
// the 200 OK parsing, our SDP and the RTP stream start offline: nothing may
// leave the process, neither SIP nor RTP, and the user agent is left as it was.
import { strict as assert } from 'node:assert';
import dgram from 'node:dgram';
import { EmitterImpl, TransportState, UserAgent, type Transport } from 'sip.js';
import { warmCallPath } from '../../src/intercom/warm-up.js';
import { codecList } from '../../src/intercom/media/index.js';
import { sleep } from '../helpers/tmp.js';

const sent: string[] = [];

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
  it('builds, parses and starts a call path without sending SIP or RTP', async () => {
    // Anything sent to 0.0.0.0 or to the desk would reach no one; a socket on the port an RTP packet could use proves nothing
    // either, so what sip.js sends is recorded and the RTP stream's sends are counted through dgram itself.
    const sends: unknown[] = [];
    const orig = dgram.Socket.prototype.send;
    dgram.Socket.prototype.send = function (this: dgram.Socket, ...args: unknown[]) {
      sends.push(args);
      return (orig as (...a: unknown[]) => void).apply(this, args);
    } as typeof orig;
    try {
      const ua = new UserAgent({ uri: UserAgent.makeURI('sip:kiosk@127.0.0.1'), transportConstructor: RecordingTransport, logBuiltinEnabled: false });
      await warmCallPath(ua, codecList(['PCMU', 'G722']));
      await sleep(100); // a media clock tick or two after the stream closed
      assert.deepEqual(sent, [], 'no SIP message sent');
      assert.equal(sends.length, 0, 'no datagram sent');
      assert.equal(Object.keys(ua._sessions).length, 0, 'the unsent INVITE is disposed of');
    } finally {
      dgram.Socket.prototype.send = orig;
    }
  });
});
