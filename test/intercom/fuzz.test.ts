// Bad SIP from the network: at least 200 malformed or mutated messages sent to
// the kiosk's SIP port must not crash it, and a call placed afterwards works.
import { strict as assert } from 'node:assert';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { stopAll } from '../../src/testbed/proc.js';
import { callRig, desk, targets } from './helpers.js';

function validInvite(port: number, i: number): string {
  const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
  return [
    `INVITE sip:conc-north@127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKfuzz${i}`,
    'Max-Forwards: 70',
    `From: <sip:fuzzer@127.0.0.1:5999>;tag=f${i}`,
    `To: <sip:conc-north@127.0.0.1:${port}>`,
    `Call-ID: fuzz-${i}@127.0.0.1`,
    'CSeq: 1 INVITE',
    'Contact: <sip:fuzzer@127.0.0.1:5999>',
    'Content-Type: application/sdp',
    `Content-Length: ${sdp.length}`,
    '',
    sdp,
  ].join('\r\n');
}

/** Deterministic-enough mutations: each kind of damage a parser must survive. */
function mutations(port: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < 220; i++) {
    const m = validInvite(port, i);
    const lines = m.split('\r\n');
    switch (i % 11) {
      case 0:
        out.push(Buffer.from(m.slice(0, Math.floor(Math.random() * m.length)))); // truncated
        break;
      case 1:
        out.push(randomBytes(1 + Math.floor(Math.random() * 1400))); // noise
        break;
      case 2:
        out.push(Buffer.from(m.replace('CSeq: 1 INVITE', ''))); // missing CSeq
        break;
      case 3:
        out.push(Buffer.from(m.replace(/Content-Length: \d+/, 'Content-Length: 99999999'))); // lying length
        break;
      case 4:
        out.push(Buffer.from(m.replace('SIP/2.0', 'SIP/9.9'))); // wrong version
        break;
      case 5:
        out.push(Buffer.from(m.replace(/Via: [^\r]*/, 'Via: ' + 'A'.repeat(3000)))); // absurd Via
        break;
      case 6: {
        const b = Buffer.from(m);
        for (let k = 0; k < 20; k++) b[Math.floor(Math.random() * b.length)] = Math.floor(Math.random() * 256); // bit rot
        out.push(b);
        break;
      }
      case 7:
        out.push(Buffer.from(m.replace(/m=audio 40000 RTP\/AVP 0/, 'm=audio -1 RTP/SAVP 255'))); // bad SDP
        break;
      case 8:
        out.push(Buffer.from(lines.slice(0, 3).join('\r\n') + '\r\n\r\n')); // headers cut off
        break;
      case 9:
        out.push(Buffer.from(`SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKnope${i}\r\nCSeq: 1 INVITE\r\nCall-ID: x${i}\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nContent-Length: 0\r\n\r\n`)); // stray response
        break;
      default:
        out.push(Buffer.from(m.replace('INVITE sip:', 'BYE sip:').replace('CSeq: 1 INVITE', 'CSeq: 2 BYE'))); // BYE for no dialog
    }
  }
  return out;
}

describe('intercom against malformed SIP', function () {
  this.timeout(60_000);
  after(() => stopAll());

  it('survives 220 malformed or mutated messages, then places a call', async () => {
    const d = await desk('desk-answer-bye.xml');
    const rig = await callRig(targets([{ uri: d.uri }]));
    const port = await rig.sipPort();
    const sock = dgram.createSocket('udp4');
    for (const msg of mutations(port)) {
      sock.send(msg, port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 3));
    }
    sock.close();
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(rig.kiosk.proc.child.exitCode, null, `kiosk died:\n${rig.kiosk.proc.output().slice(-2000)}`);
    const h = await fetch(rig.kiosk.url + 'health');
    assert.equal(h.status, 200);
    await rig.press('emergency');
    await rig.waitState('connected', 10_000);
    await rig.waitState('ended', 10_000);
    assert.equal(await d.proc.exited, 0);
  });
});
