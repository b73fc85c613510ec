// A console desk still registered at the site SIP server but gone (its PC's
// network died without closing the connection): Kamailio gives its branch up
// with 408 when it sends nothing within 5 s (tm fr_timer, the generated
// config of src/sipserver/kamailio-cfg.ts), so the kiosk's alarm moves on to
// the next desk then, not after the dead desk's 30 s ring timeout. The desk's
// contact is put into the location table with JSON-RPC (ul.add) and points at
// a UDP socket that takes everything and answers nothing.
import { strict as assert } from 'node:assert';
import dgram from 'node:dgram';
import { stopAll } from '../../src/testbed/proc.js';
import { startKamailio, type Kamailio } from '../../src/testbed/kamailio.js';
import { desk } from './helpers.js';
import { alarmRig } from '../alarm/helpers.js';

const RPC_TOKEN = 'dead-desk-test-rpc-token-0123456789';

async function rpc(k: Kamailio, method: string, params: unknown[]): Promise<unknown> {
  const r = await fetch(`http://127.0.0.1:${k.wsPort}/RPC`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-helppoint-rpc': RPC_TOKEN },
    body: JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 }),
  });
  const body = (await r.json()) as { result?: unknown; error?: { message?: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

describe('a registered desk that answers nothing (site SIP server, real kiosk)', function () {
  this.timeout(60_000);
  afterEach(() => stopAll());

  it('the SIP server answers 408 after 5 s and the alarm goes on to the next desk, not after the ring timeout', async () => {
    const sink = dgram.createSocket('udp4');
    await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
    let invites = 0;
    sink.on('message', (m) => void (m.toString('latin1').startsWith('INVITE ') && invites++));
    try {
      const k = await startKamailio({ users: { ghost: 'ghost-secret' }, rpcToken: RPC_TOKEN });
      // table, AOR, contact, expires, q, path, flags, cflags, methods
      await rpc(k, 'ul.add', ['location', 'ghost@127.0.0.1', `sip:ghost@127.0.0.1:${sink.address().port}`, 3600, 1.0, '', 0, 0, 4294967295]);
      const d2 = await desk('desk-ack-dtmf-bye.xml');
      const rig = await alarmRig({
        sip: {
          deskServer: `127.0.0.1:${k.port}`,
          targets: { emergency: [{ uri: 'desk:ghost', ringTimeoutS: 30 }, { uri: d2.uri }], information: [{ uri: d2.uri }] },
        },
      });
      await rig.press('emergency');
      const first = await rig.waitAlarm((a) => a.state === 'calling' && a.attempt === 1, 'first attempt');
      const next = await rig.waitAlarm((a) => a.state === 'calling' && a.attempt === 2, 'second attempt', 20_000);
      const waited = Date.parse(next.at) - Date.parse(first.at);
      assert.ok(invites >= 1, 'the dead desk was sent the INVITE');
      assert.ok(waited >= 4000 && waited < 15_000, `moved on after ${waited} ms (the SIP server's 5 s, not the 30 s ring timeout)`);
      assert.match(next.reason ?? '', /^408/, `reason: ${next.reason}`);
      assert.equal(next.target, d2.uri);
      await rig.waitAlarm((a) => a.state === 'acknowledged', 'acknowledged by the next desk');
    } finally {
      sink.close();
    }
  });
});
