// sip.trustedTlsPeers: a kiosk with a certificate of its own (sip.tls.cert,
// key) accepts calls over TLS; one from a peer whose client certificate is
// pinned is trusted (it auto-answers), one from a peer with another
// certificate, or with none, only rings. The peers are raw TLS clients, so
// what they claim (From: an allowed desk, Answer-Mode: Auto) is the same.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { stopAll } from '../../src/testbed/proc.js';
import { certDigests } from '../../src/intercom/transports/tls-verify.js';
import { tmpDir, until, sleep } from '../helpers/tmp.js';
import { makeCa, makeLeaf, type Pem } from '../helpers/tls-certs.js';
import { callRig, type CallRig } from './helpers.js';

const der = (pemFile: string) => Buffer.from(readFileSync(pemFile, 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64');

/** A peer over TLS that sends one INVITE asking for auto-answer and collects the status lines it gets back. */
async function invite(port: number, cert: Pem | undefined, n: number) {
  const sock = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...(cert ? { cert: readFileSync(cert.cert), key: readFileSync(cert.key) } : {}) });
  await new Promise<void>((r, j) => (sock.once('secureConnect', () => r()), sock.once('error', j)));
  let got = '';
  sock.on('data', (d) => (got += d.toString()));
  sock.on('error', () => {});
  const local = sock.localPort;
  const sdp = 'v=0\r\no=desk 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
  const head = (method: string, cseq: number, branch: string) =>
    `${method} sip:conc-north@127.0.0.1:${port};transport=tls SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:${local};branch=z9hG4bK-${branch}\r\nFrom: <sip:desk@127.0.0.1>;tag=peer${n}\r\nTo: <sip:conc-north@127.0.0.1>\r\nCall-ID: tls-peer-${n}@127.0.0.1\r\nCSeq: ${cseq} ${method}\r\nContact: <sip:desk@127.0.0.1:${local};transport=tls>\r\nMax-Forwards: 70\r\n`;
  sock.write(`${head('INVITE', 1, `inv${n}`)}Answer-Mode: Auto\r\nContent-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`);
  const statuses = () => [...got.matchAll(/^SIP\/2\.0 (\d{3})/gm)].map((m) => Number(m[1]));
  return {
    statuses,
    toTag: () => /^To:.*;tag=([^;\s]+)/im.exec(got)?.[1],
    /** ACK the 200 and hang up */
    async hangUp(toTag: string) {
      const to = (s: string) => s.replace(/^To: (.*)$/m, `To: $1;tag=${toTag}`);
      sock.write(`${to(head('ACK', 1, `ack${n}`))}Content-Length: 0\r\n\r\n`);
      await sleep(200);
      sock.write(`${to(head('BYE', 2, `bye${n}`))}Content-Length: 0\r\n\r\n`);
    },
    /** gives the ringing call up */
    cancel: () => sock.write(`${head('CANCEL', 1, `inv${n}`)}Content-Length: 0\r\n\r\n`),
    close: () => sock.destroy(),
  };
}

describe('intercom: calls over TLS trusted by the peer\'s certificate (sip.trustedTlsPeers)', function () {
  this.timeout(40_000);
  const dir = tmpDir('hp-tls-peers-');
  const ca = makeCa(dir, 'site-ca');
  const kioskCert = makeLeaf(dir, 'kiosk', ca, 'IP:127.0.0.1');
  const desk = makeLeaf(dir, 'desk', ca, 'IP:127.0.0.1');
  const stranger = makeLeaf(dir, 'stranger', ca, 'IP:127.0.0.1');
  let rig: CallRig;

  before(async () => {
    rig = await callRig({
      sip: {
        transport: 'tls',
        tls: { ca: path.join(dir, 'site-ca.pem'), cert: kioskCert.cert, key: kioskCert.key },
        trustedSources: [],
        trustedTlsPeers: [certDigests(der(desk.cert)).cert.match(/../g)!.join(':')],
        autoAnswerFrom: ['desk@127.0.0.1'],
      },
    });
  });
  after(async () => {
    await rig?.kiosk.stop();
    await stopAll();
  });

  it('a call from the pinned peer auto-answers', async () => {
    const peer = await invite(await rig.sipPort(), desk, 1);
    try {
      await until(() => peer.statuses().includes(200), 8000, '200 OK');
      await rig.waitState('connected', 5000);
      const c = rig.events().find((e) => e.type === 'call.state' && e.data.state === 'connected');
      assert.equal(c?.data.trusted, true);
      await peer.hangUp(peer.toTag()!);
      await rig.waitState('ended', 5000);
    } finally {
      peer.close();
    }
  });

  for (const [who, cert] of [['another certificate', stranger], ['no certificate', undefined]] as const) {
    it(`a call from a peer with ${who} only rings`, async () => {
      const before = rig.events().filter((e) => e.type === 'call.refused').length;
      const peer = await invite(await rig.sipPort(), cert, who === 'no certificate' ? 3 : 2);
      try {
        await until(() => peer.statuses().includes(180), 8000, '180 Ringing');
        const refused = await until(() => rig.events().filter((e) => e.type === 'call.refused')[before], 5000, 'auto-answer refused');
        assert.equal(refused.data.action, 'auto-answer');
        await sleep(1500);
        assert.ok(!peer.statuses().includes(200), `answered: ${peer.statuses().join(',')}`);
        const id = refused.data.callId;
        peer.cancel();
        await until(() => rig.events().some((e) => e.type === 'call.state' && e.data.callId === id && e.data.state !== 'ringing'), 5000, 'the ringing call given up');
      } finally {
        peer.close();
      }
    });
  }
});
