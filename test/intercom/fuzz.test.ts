// Bad SIP from the network: 10,000 mutated datagrams at the kiosk's UDP port
// and 1,000 malformed TCP streams at a TCP kiosk must not crash it or make it
// grow, and a call placed afterwards works. Growth is measured twice: the heap
// the kiosk still holds after a full garbage collection (read through its
// inspector; under 8 MB more: the bounded caches fill, a leak of 1 KB per
// datagram would add 10 MB) and RSS (under 20 MB more, for what is outside V8's
// heap). Every
// mutation is drawn from a seeded generator, so a failure can be replayed.
import { strict as assert } from 'node:assert';
import dgram from 'node:dgram';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { stopAll } from '../../src/testbed/proc.js';
import { startSipp } from '../../src/testbed/sipp.js';
import { seededRandom } from '../../src/testbed/udp-relay.js';
import { callRig, scenario, targets, type CallRig } from './helpers.js';
import { sleep, until } from '../helpers/tmp.js';
import { heapAfterGc, INSPECT } from '../helpers/inspector.js';

// FUZZ_SEED replays another stream (the seed is printed when a test fails).
const SEED = Number(process.env.FUZZ_SEED ?? 1010);

/** Random helpers on one seeded source. */
function dice(seed: number) {
  const r = seededRandom(seed);
  const int = (n: number) => Math.floor(r() * n);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { r, int, bytes, pick };
}

function validInvite(port: number, i: number, transport = 'UDP'): string {
  const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
  return [
    `INVITE sip:conc-north@127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/${transport} 127.0.0.1:5999;branch=z9hG4bKfuzz${i}`,
    'Max-Forwards: 70',
    `From: <sip:desk@127.0.0.1>;tag=f${i}`,
    `To: <sip:conc-north@127.0.0.1:${port}>`,
    `Call-ID: fuzz-${i}@127.0.0.1`,
    'CSeq: 1 INVITE',
    'Contact: <sip:fuzzer@127.0.0.1:5999>',
    'Answer-Mode: Auto',
    'Content-Type: application/sdp',
    `Content-Length: ${sdp.length}`,
    '',
    sdp,
  ].join('\r\n');
}

const METHODS = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'INFO', 'REGISTER', 'NOTIFY', 'PRACK', 'UPDATE', 'REFER', 'MESSAGE', 'SUBSCRIBE', 'FOO'];

/** One mutated message: each kind of damage a parser (ours, sip.js's) must survive. */
function mutate(d: ReturnType<typeof dice>, port: number, i: number, transport = 'UDP'): Buffer {
  const m = validInvite(port, i, transport);
  const lines = m.split('\r\n');
  switch (d.int(24)) {
    case 0:
      return Buffer.from(m.slice(0, d.int(m.length))); // truncated
    case 1:
      return d.bytes(1 + d.int(1400)); // noise
    case 2:
      return Buffer.from(m.replace('CSeq: 1 INVITE', '')); // missing CSeq
    case 3:
      return Buffer.from(m.replace(/Content-Length: \d+/, `Content-Length: ${d.pick(['99999999', '-5', '0', 'abc', '1e9', ''])}`)); // lying length
    case 4:
      return Buffer.from(m.replace('SIP/2.0', d.pick(['SIP/9.9', 'SIP/2.0/', 'HTTP/1.1', 'sip/2.0', '']))); // wrong version
    case 5:
      return Buffer.from(m.replace(/Via: [^\r]*/, 'Via: ' + 'A'.repeat(d.int(6000)))); // absurd Via
    case 6: {
      const b = Buffer.from(m);
      for (let k = 0; k < 1 + d.int(40); k++) b[d.int(b.length)] = d.int(256); // bit rot
      return b;
    }
    case 7:
      return Buffer.from(m.replace(/m=audio 40000 RTP\/AVP 0/, d.pick(['m=audio -1 RTP/SAVP 255', 'm=audio 99999 RTP/AVP', 'm=video 0 RTP/AVP 0', 'm=audio 40000 RTP/AVP 0 0 0 0 0']))); // bad SDP
    case 8:
      return Buffer.from(lines.slice(0, 1 + d.int(lines.length - 1)).join('\r\n') + '\r\n\r\n'); // headers cut off
    case 9:
      // stray response, sometimes to one of our own transactions' shapes
      return Buffer.from(`SIP/2.0 ${d.pick(['100 Trying', '180 Ringing', '200 OK', '408 Request Timeout', '486 Busy', '999 What', '1 X'])}\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK${d.int(1e7)}\r\nCSeq: ${d.int(5)} ${d.pick(METHODS)}\r\nCall-ID: x${i}\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nContent-Length: 0\r\n\r\n`);
    case 10:
      return Buffer.from(m.replace('INVITE sip:', `${d.pick(METHODS)} sip:`).replace('CSeq: 1 INVITE', `CSeq: ${d.int(1e6)} ${d.pick(METHODS)}`)); // other methods, no dialog
    case 11:
      return Buffer.from(m.replace(/\r\n/g, d.pick(['\n', '\r', '\r\n\r\n', ' \r\n']))); // line ends
    case 12:
      return Buffer.from(m.replace('Max-Forwards: 70', Array.from({ length: 1 + d.int(300) }, (_, k) => `X-H${k}: ${'x'.repeat(d.int(50))}`).join('\r\n'))); // many headers
    case 13:
      return Buffer.from(m.replace(/Via: [^\r]*/, Array.from({ length: 1 + d.int(80) }, (_, k) => `Via: SIP/2.0/UDP 10.0.0.${k}:5060;branch=z9hG4bK${k}`).join('\r\n'))); // many Vias
    case 14:
      return Buffer.from(m.replace(/From: [^\r]*/, d.pick(['From: ', 'From: <>', 'From: <sip:@>', 'From: "' + '\u0000'.repeat(10) + '" <sip:a@b>', 'From: <sip:a@b>;tag=' + 'T'.repeat(3000)]))); // broken From
    case 15:
      return Buffer.from(m.replace(/To: [^\r]*/, d.pick(['To: ', 'To: <tel:>', 'To: <sip:conc-north@127.0.0.1>;tag=existing']))); // broken To
    case 16:
      return Buffer.from(m.replace('CSeq: 1 INVITE', d.pick(['CSeq: 4294967296 INVITE', 'CSeq: -1 INVITE', 'CSeq: INVITE', 'CSeq: 1 BYE', 'CSeq: 1'])));
    case 17:
      return Buffer.from(m.replace(/Call-ID: [^\r]*/, d.pick(['Call-ID: ', 'Call-ID: ' + 'c'.repeat(5000), 'Call-ID: a b c'])));
    case 18:
      return Buffer.from(m.replace(/Content-Type: [^\r]*/, d.pick(['Content-Type: multipart/mixed;boundary=x', 'Content-Type: application/sdp;charset=\u00ff', 'Content-Type:']))); // content types
    case 19:
      return Buffer.from(m.replace(/branch=[^\r;]*/, d.pick(['branch=', 'branch=z9hG4bK', 'branch=' + 'b'.repeat(2000), 'rport']))); // branches
    case 20:
      return Buffer.from(m + d.bytes(d.int(2000)).toString('latin1')); // garbage after the body
    case 21:
      return Buffer.from(`${m}${m}`); // two messages in one datagram
    case 22:
      return Buffer.from('\r\n'.repeat(1 + d.int(100))); // keep-alives
    default:
      return Buffer.from(m.replace(/Via: SIP\/2.0\/UDP 127.0.0.1:5999/, `Via: SIP/2.0/UDP ${d.pick(['[::1]', '300.1.1.1', 'host name', '127.0.0.1:99999', ''])}`)); // odd sent-by
  }
}

/** A malformed TCP stream: garbage, lies about lengths, slices, floods. */
function stream(d: ReturnType<typeof dice>, port: number, i: number): Buffer[] {
  const good = validInvite(port, 100_000 + i, 'TCP');
  switch (d.int(10)) {
    case 0:
      return [d.bytes(1 + d.int(5000))];
    case 1:
      return [Buffer.from(good.replace(/Content-Length: \d+/, 'Content-Length: 60000'))]; // waits for a body that never comes
    case 2:
      return [Buffer.from(good.replace(/Content-Length: \d+/, 'Content-Length: 999999999'))]; // beyond the limit
    case 3:
      return [Buffer.from('INVITE sip:x SIP/2.0\r\n' + 'X: ' + 'y'.repeat(70_000))]; // a header that never ends
    case 4: {
      // a valid message cut into random slices, then garbage
      const b = Buffer.from(good);
      const out: Buffer[] = [];
      for (let o = 0; o < b.length; ) {
        const n = 1 + d.int(200);
        out.push(b.subarray(o, o + n));
        o += n;
      }
      return [...out, d.bytes(d.int(300))];
    }
    case 5:
      return [Buffer.from('\r\n'.repeat(1 + d.int(20_000)))]; // keep-alive flood
    case 6:
      return [mutate(d, port, 100_000 + i, 'TCP')]; // a mutated datagram as a stream
    case 7:
      return Array.from({ length: 1 + d.int(20) }, (_, k) => mutate(d, port, 200_000 + i * 20 + k, 'TCP')); // many
    case 8:
      return [Buffer.from(good.slice(0, d.int(good.length)))]; // cut off, then closed
    default:
      return [Buffer.from(good.replace('SIP/2.0', 'SIP/2.0\u0000'))];
  }
}

const MB = 1024 * 1024;
const mb = (bytes: number) => (bytes / MB).toFixed(1);

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

async function warmUp(rig: CallRig): Promise<void> {
  // One call first, so code paths are loaded and the RSS baseline is fair.
  await rig.press('emergency');
  await rig.waitState('ended', 15_000);
  await sleep(1000);
}

describe('intercom against malformed SIP', function () {
  this.timeout(300_000);
  afterEach(() => stopAll());

  it('survives 10,000 mutated datagrams (heap held < 8 MB more, RSS < 20 MB more), then places a call', async () => {
    // One desk for two calls: the warm-up and the call afterwards.
    const d2 = await startSipp({ scenario: scenario('desk-answer-bye.xml'), args: ['-m', '2', '-rtp_echo'] });
    const rig = await callRig(targets([{ uri: d2.uri }]), {}, { nodeArgs: [INSPECT] });
    await warmUp(rig);
    const port = await rig.sipPort();
    const pid = rig.kiosk.proc.pid;
    const heapBefore = await heapAfterGc(rig.kiosk.proc);
    const before = rssKb(pid);
    const d = dice(SEED);
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    let sent = 0;
    for (let i = 0; i < 10_000; i++) {
      sock.send(mutate(d, port, i), port, '127.0.0.1');
      sent++;
      if (i % 20 === 19) await sleep(2); // about 10,000 a second at most, in bursts
    }
    sock.close();
    await sleep(2000);
    assert.equal(rig.kiosk.proc.child.exitCode, null, `kiosk died (FUZZ_SEED=${SEED}):\n${rig.kiosk.proc.output().slice(-2000)}`);
    assert.equal((await fetch(rig.kiosk.url + 'health')).status, 200);
    // RSS after the same full collection on both sides: what V8 has not collected yet is not growth
    const heapAfter = await heapAfterGc(rig.kiosk.proc);
    const after = rssKb(pid);
    console.log(`      kiosk RSS ${before} kB -> ${after} kB, heap held ${mb(heapBefore)} -> ${mb(heapAfter)} MB after ${sent} mutated datagrams`);
    assert.ok(heapAfter - heapBefore < 8 * MB, `heap held ${mb(heapBefore)} -> ${mb(heapAfter)} MB after ${sent} datagrams`);
    assert.ok(after - before < 20 * 1024, `RSS ${before} kB -> ${after} kB after ${sent} datagrams`);
    // A call afterwards works.
    await rig.press('emergency');
    await rig.waitState('connected', 15_000, 2);
    await rig.waitState('ended', 15_000, 2);
    assert.equal(await d2.proc.exited, 0, d2.proc.output().slice(-2000));
  });

  it('survives 1,000 malformed TCP streams (heap held < 8 MB more, RSS < 20 MB more), then places a call over TCP', async () => {
    const d2 = await startSipp({ scenario: scenario('desk-answer-bye.xml'), args: ['-t', 't1', '-m', '2', '-rtp_echo'] });
    const rig = await callRig({ sip: { transport: 'tcp', ...targets([{ uri: `${d2.uri};transport=tcp` }]).sip } }, {}, { nodeArgs: [INSPECT] });
    await warmUp(rig);
    const port = await rig.sipPort();
    const pid = rig.kiosk.proc.pid;
    const heapBefore = await heapAfterGc(rig.kiosk.proc);
    const before = rssKb(pid);
    const d = dice(SEED + 1);
    let done = 0;
    const one = (i: number) =>
      new Promise<void>((resolve) => {
        const chunks = stream(d, port, i);
        const s = net.connect(port, '127.0.0.1');
        s.on('error', () => {});
        s.on('close', () => resolve());
        s.on('connect', async () => {
          for (const c of chunks) {
            if (s.destroyed) break;
            s.write(c);
            if (chunks.length > 1) await sleep(1);
          }
          setTimeout(() => s.end(), 20);
          setTimeout(() => s.destroy(), 500);
        });
      }).then(() => void done++);
    for (let i = 0; i < 1000; i += 25) await Promise.all(Array.from({ length: 25 }, (_, k) => one(i + k)));
    assert.equal(done, 1000);
    await sleep(2000);
    assert.equal(rig.kiosk.proc.child.exitCode, null, `kiosk died (FUZZ_SEED=${SEED}):\n${rig.kiosk.proc.output().slice(-2000)}`);
    assert.equal((await fetch(rig.kiosk.url + 'health')).status, 200);
    // RSS after the same full collection on both sides: what V8 has not collected yet is not growth
    const heapAfter = await heapAfterGc(rig.kiosk.proc);
    const after = rssKb(pid);
    console.log(`      kiosk RSS ${before} kB -> ${after} kB, heap held ${mb(heapBefore)} -> ${mb(heapAfter)} MB after 1000 malformed TCP streams`);
    assert.ok(heapAfter - heapBefore < 8 * MB, `heap held ${mb(heapBefore)} -> ${mb(heapAfter)} MB after 1000 streams`);
    assert.ok(after - before < 20 * 1024, `RSS ${before} kB -> ${after} kB after 1000 streams`);
    await rig.press('emergency');
    await rig.waitState('connected', 15_000, 2);
    await rig.waitState('ended', 15_000, 2);
    assert.equal(await d2.proc.exited, 0, d2.proc.output().slice(-2000));
  });
  it('a flood of 5,000 well-formed INVITEs from a stranger: at most 64 held open, the rest dropped with a warning, then places a call', async () => {
    const d2 = await startSipp({ scenario: scenario('desk-answer-bye.xml'), args: ['-m', '2', '-rtp_echo'] });
    const rig = await callRig(targets([{ uri: d2.uri }]), {}, { nodeArgs: [INSPECT] });
    await warmUp(rig);
    const port = await rig.sipPort();
    const heapBefore = await heapAfterGc(rig.kiosk.proc);
    const sock = dgram.createSocket('udp4');
    const answered = new Set<string>();
    sock.on('message', (m) => {
      const b = /branch=(z9hG4bKflood\d+)/.exec(m.toString())?.[1];
      if (b) answered.add(b);
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    for (let i = 0; i < 5000; i++) {
      sock.send(validInvite(port, i).replace('z9hG4bKfuzz', 'z9hG4bKflood'), port, '127.0.0.1');
      if (i % 20 === 19) await sleep(2);
    }
    await sleep(2000);
    sock.close();
    // none ACKed: each answered one stays open (Timer H, 32 s), so past the limit nothing new gets in
    assert.ok(answered.size >= 64 && answered.size <= 64 + 8, `answered ${answered.size} of 5,000 INVITEs`);
    await rig.kiosk.proc.waitFor(/INVITEs from untrusted sources dropped/, 1000);
    // and recorded, so the hub sees it: who flooded and how many were dropped
    await until(() => rig.events().some((e) => e.type === 'sip.dropped' && (e.data as { from: string }).from.startsWith('udp:127.0.0.1:')), 5000, 'sip.dropped recorded');
    const heapAfter = await heapAfterGc(rig.kiosk.proc);
    console.log(`      answered ${answered.size} of 5,000 INVITEs; heap held ${mb(heapBefore)} -> ${mb(heapAfter)} MB`);
    assert.ok(heapAfter - heapBefore < 8 * MB, `heap held ${mb(heapBefore)} -> ${mb(heapAfter)} MB`);
    // the kiosk's own call is not held back
    await rig.press('emergency');
    await rig.waitState('connected', 15_000, 2);
    await rig.waitState('ended', 15_000, 2);
    assert.equal(await d2.proc.exited, 0, d2.proc.output().slice(-2000));
  });
});
