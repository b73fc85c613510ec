// The test bed itself: each real peer starts on loopback, does its job, and
// stops by PID. Later suites rely on these.
import { strict as assert } from 'node:assert';
import dgram from 'node:dgram';
import WebSocket from 'ws';
import { startSipp } from '../../src/testbed/sipp.js';
import { startKamailio } from '../../src/testbed/kamailio.js';
import { startBaresip } from '../../src/testbed/baresip.js';
import { stopAll } from '../../src/testbed/proc.js';
import { until } from '../helpers/tmp.js';

function invite(port: number, localPort: number): string {
  const branch = 'z9hG4bK' + Math.random().toString(36).slice(2);
  const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
  return [
    `INVITE sip:desk@127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${localPort};branch=${branch};rport`,
    'Max-Forwards: 70',
    `From: <sip:probe@127.0.0.1:${localPort}>;tag=probe1`,
    `To: <sip:desk@127.0.0.1:${port}>`,
    `Call-ID: probe-${Date.now()}@127.0.0.1`,
    'CSeq: 1 INVITE',
    `Contact: <sip:probe@127.0.0.1:${localPort}>`,
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(sdp)}`,
    '',
    sdp,
  ].join('\r\n');
}

describe('test bed: real peers on loopback', function () {
  this.timeout(30_000);
  after(() => stopAll());

  it('sipp answers an INVITE with 180 and 200', async () => {
    const sipp = await startSipp({ builtin: 'uas', args: ['-m', '1'] });
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const codes: number[] = [];
    sock.on('message', (m) => codes.push(Number(/^SIP\/2\.0 (\d{3})/.exec(m.toString())?.[1])));
    const send = () => sock.send(invite(sipp.port, sock.address().port), sipp.port, '127.0.0.1');
    send();
    const t = setInterval(send, 500); // UDP: retransmit until sipp is listening
    try {
      await until(() => codes.includes(200), 10_000, '200 OK from sipp');
    } finally {
      clearInterval(t);
      sock.close();
    }
    assert.ok(codes.includes(180), `codes: ${codes}`);
    await sipp.stop();
  });

  it('Kamailio accepts a SIP WebSocket connection and challenges a REGISTER', async () => {
    const kam = await startKamailio({ users: { k1: 'secret-k1' } });
    const ws = new WebSocket(`ws://127.0.0.1:${kam.wsPort}/`, 'sip');
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    assert.equal(ws.protocol, 'sip');
    const reply = new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())));
    ws.send(
      [
        'REGISTER sip:127.0.0.1 SIP/2.0',
        'Via: SIP/2.0/WS abc.invalid;branch=z9hG4bKws1',
        'Max-Forwards: 70',
        'From: <sip:k1@127.0.0.1>;tag=ws1',
        'To: <sip:k1@127.0.0.1>',
        'Call-ID: ws-probe-1',
        'CSeq: 1 REGISTER',
        'Contact: <sip:k1@abc.invalid;transport=ws>',
        'Expires: 60',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    const text = await reply;
    assert.match(text, /^SIP\/2\.0 401 /);
    assert.match(text, /WWW-Authenticate: Digest realm="127\.0\.0\.1"/);
    ws.close();
    await kam.stop();
  });

  it('baresip registers with Kamailio using digest authentication', async () => {
    const kam = await startKamailio({ users: { desk: 'desk-pass' } });
    const desk = await startBaresip({ user: 'desk', registrar: { uri: `sip:127.0.0.1:${kam.port}`, domain: '127.0.0.1', password: 'desk-pass' } });
    await desk.proc.waitFor(/200 OK|registered successfully|\{0\/UDP\/v4\}/i, 10_000);
    const info = await desk.command('reginfo');
    assert.ok(info.ok);
    assert.match(info.data, /OK/);
    await desk.stop();
    await kam.stop();
  });

  it('stops peers by PID, leaving no process behind', async () => {
    const sipp = await startSipp({ builtin: 'uas' });
    const pid = sipp.proc.pid;
    await sipp.stop();
    assert.throws(() => process.kill(pid, 0));
  });
});
