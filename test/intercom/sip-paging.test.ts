// SIP paging (sip.paging, src/intercom/paging.ts): a dispatcher (sipp) calls
// the kiosk's paging address. Trusted by arrival (its address in
// sip.trustedSources), it is answered at once with a=recvonly, its RTP plays
// from the loudspeaker (the kiosk's output captured to a file) and nothing is
// sent back (the microphone stays off). From another address it gets 403;
// during an alarm call 486. A press during a page ends the page (BYE) and the
// alarm's INVITE reaches the desk as fast as without the page. With sipp the
// test sends the page's RTP itself, from the port the dispatcher's SDP names;
// baresip, a real softphone, sends its own (G.722).
import { strict as assert } from 'node:assert';
import dgram from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startSipp, type Sipp } from '../../src/testbed/sipp.js';
import { stopAll } from '../../src/testbed/proc.js';
import { buildRtp } from '../../src/intercom/media/rtp-packet.js';
import { CODECS } from '../../src/audio/codecs/index.js';
import { callRig, desk, scenario, targets, type CallRig } from './helpers.js';
import { inviteTap } from '../alarm/helpers.js';
import { sleep, tmpDir, until } from '../helpers/tmp.js';
import { level, tone } from '../audio/helpers.js';
import { assertPlayedAsSent, makeTone } from './sox.js';
import { startBaresip } from '../../src/testbed/baresip.js';
import { parseWav } from '../../src/audio/wav.js';

const DISPATCHER = '127.0.0.1';
const STRANGER = '127.0.0.2';
const PAGE_HZ = 1000;
const MIC_HZ = 700;

/** The dispatcher's media end: the test sends the page from it and counts what the kiosk sends to it. */
interface MediaEnd {
  port: number;
  received: number;
  close(): void;
  socket: dgram.Socket;
}

async function mediaEnd(host: string): Promise<MediaEnd> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, host, () => r()));
  const m: MediaEnd = { port: socket.address().port, received: 0, socket, close: () => socket.close() };
  socket.on('message', () => m.received++);
  return m;
}

async function pager(rig: CallRig, name: string, host: string, media: MediaEnd, user = 'page'): Promise<Sipp> {
  const port = await rig.sipPort();
  return startSipp({ scenario: scenario(name), host, args: [`127.0.0.1:${port}`, '-set', 'page', user, '-set', 'mport', String(media.port), '-m', '1'] });
}

function sippTrace(s: Sipp): string {
  return readdirSync(s.dir)
    .filter((f) => f.endsWith('_errors.log') || f.endsWith('_messages.log'))
    .map((f) => readFileSync(path.join(s.dir, f), 'utf8').slice(-2500))
    .join('\n');
}

/** The kiosk's RTP port, from its 200 OK in the dispatcher's message log. */
async function kioskRtpPort(s: Sipp): Promise<number> {
  const port = await until(
    () => {
      const log = readdirSync(s.dir).find((f) => f.endsWith('_messages.log'));
      return log && /SIP\/2\.0 200 OK[\s\S]*?m=audio (\d+) RTP/.exec(readFileSync(path.join(s.dir, log), 'utf8'))?.[1];
    },
    5000,
    "the kiosk's RTP port in its 200 OK",
  );
  return Number(port);
}

/** Sends `ms` of a PCMU tone, 20 ms packets, as a paging phone would. */
async function sendPage(media: MediaEnd, kioskPort: number, ms: number, stop?: () => boolean): Promise<number> {
  const pcmu = CODECS.PCMU();
  const pcm = tone(PAGE_HZ, ms, 8000, 0.5);
  const ssrc = 0x5a6e;
  let sent = 0;
  const t0 = performance.now();
  for (let i = 0; (i + 1) * 160 <= pcm.length && !stop?.(); i++) {
    const payload = pcmu.encode(pcm.subarray(i * 160, (i + 1) * 160));
    media.socket.send(buildRtp({ marker: i === 0, payloadType: 0, seq: 100 + i, timestamp: 1000 + i * 160, ssrc }, payload), kioskPort, '127.0.0.1');
    sent++;
    await sleep(Math.max(0, t0 + (i + 1) * 20 - performance.now()));
  }
  return sent;
}

function pageConfig(capture?: string, mic?: string, paging: Record<string, unknown> = {}) {
  return {
    sip: { trustedSources: [`${DISPATCHER}/32`], paging: { user: 'page', ...paging } },
    audio: { input: mic ? { source: 'file', file: mic } : { source: 'silence' }, output: capture ? { sink: 'file', file: capture, rate: 16000 } : { sink: 'null' }, volume: 1, handsFree: { mode: 'off' } },
  };
}

/** Paging on, the emergency (and information) desk at `uri`. */
function withDesk(uri: string) {
  const c = pageConfig();
  return { ...c, sip: { ...c.sip, ...targets([{ uri, ringTimeoutS: 10 }]).sip } };
}

describe('intercom: SIP paging', function () {
  this.timeout(60_000);
  afterEach(() => stopAll());

  it('a trusted dispatcher pages the kiosk: answered recvonly, its audio plays in the page channel, the microphone is not sent', async () => {
    const dir = tmpDir('hp-sippage-');
    const capture = path.join(dir, 'played.raw');
    const mic = makeTone(path.join(dir, 'mic.wav'), MIC_HZ, 5, 16000, 0.5);
    const rig = await callRig(pageConfig(capture, mic));
    const media = await mediaEnd(DISPATCHER);
    const p = await pager(rig, 'caller-page-bye.xml', DISPATCHER, media);
    const sent = await sendPage(media, await kioskRtpPort(p), 2000);
    assert.equal(await p.proc.exited, 0, `the page was not answered recvonly and ended by the dispatcher:\n${sippTrace(p)}`);
    const ended = await until(() => rig.events().find((e) => e.type === 'call.page' && e.data.state === 'ended'), 5000, 'call.page ended');
    const started = rig.events().find((e) => e.type === 'call.page' && e.data.state === 'started');
    assert.equal(started?.data.from, `dispatcher@${DISPATCHER}`);
    assert.match(started?.data.via, /^udp:127\.0\.0\.1:\d+$/);
    assert.equal(ended.data.reason, 'hung up');
    assert.ok(ended.data.durationMs >= 2500 && ended.data.durationMs < 6000, `played ${ended.data.durationMs} ms`);
    // A page, not an intercom call: no call states (no call screen, no call lamps), an announcement on the screen.
    assert.deepEqual(rig.events().filter((e) => e.type === 'call.state'), []);
    const pa = await until(() => rig.events().find((e) => e.type === 'pa.started'), 3000, 'pa.started');
    assert.equal(pa.data.channel, 'page');
    assert.equal(pa.data.id, `sip-page-${started?.data.callId}`);
    // Nothing sent: not a packet reached the dispatcher's media port, and the kiosk's own count says so.
    const stats = await until(() => rig.events().find((e) => e.type === 'call.media'), 5000, 'call.media');
    assert.equal(stats.data.packetsSent, 0);
    assert.equal(media.received, 0, 'the kiosk sent RTP to the paging phone');
    assert.ok(stats.data.packetsReceived >= sent * 0.9, `received ${stats.data.packetsReceived} of ${sent}`);
    media.close();
    // What the loudspeaker played: the page's tone, loud; nothing of the microphone's.
    const raw = readFileSync(capture);
    const played = new Int16Array(raw.buffer, raw.byteOffset, raw.byteLength >> 1);
    let loudest = 0;
    let loudBlocks = 0;
    let micLevel = 0;
    for (let o = 0; o + 1600 <= played.length; o += 1600) {
      const l = level(played.subarray(o, o + 1600), PAGE_HZ, 16000);
      loudest = Math.max(loudest, l);
      if (l > 0.2) loudBlocks++;
      micLevel = Math.max(micLevel, level(played.subarray(o, o + 1600), MIC_HZ, 16000));
    }
    assert.ok(loudest > 0.35, `the page's ${PAGE_HZ} Hz at ${loudest.toFixed(3)} of full scale`);
    assert.ok(loudBlocks >= 15, `only ${loudBlocks} blocks of 100 ms carried the page`);
    assert.ok(micLevel < 0.01, `the microphone's ${MIC_HZ} Hz at ${micLevel.toFixed(3)} in the output`);
  });

  it('baresip, a real softphone, pages the kiosk: G.722 plays from the loudspeaker, the phone gets nothing back', async () => {
    const dir = tmpDir('hp-sippage-bs-');
    const capture = path.join(dir, 'played.raw');
    const phoneWav = makeTone(path.join(dir, 'phone.wav'), PAGE_HZ, 20, 16000, 0.25);
    const phone = await startBaresip({ user: 'dispatcher', sourceWav: phoneWav });
    const rig = await callRig(pageConfig(capture));
    const r = await phone.command('dial', `sip:page@127.0.0.1:${await rig.sipPort()}`);
    assert.ok(r.ok, r.data);
    await until(() => rig.events().find((e) => e.type === 'call.page' && e.data.state === 'started'), 10_000, 'call.page started');
    await sleep(3000);
    await phone.command('hangup');
    const ended = await until(() => rig.events().find((e) => e.type === 'call.page' && e.data.state === 'ended'), 10_000, 'call.page ended');
    assert.equal(ended.data.reason, 'hung up');
    const stats = await until(() => rig.events().find((e) => e.type === 'call.media'), 5000, 'call.media');
    assert.equal(stats.data.codec, 'G722');
    assert.equal(stats.data.packetsSent, 0);
    assert.ok(stats.data.packetsReceived > 100, `received ${stats.data.packetsReceived}`);
    // What the phone heard: nothing (its recording of the call, if any, is silent).
    for (const rec of phone.recordings()) {
      const heard = parseWav(readFileSync(rec)).samples;
      const peak = heard.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      assert.ok(peak < 100, `the phone heard a peak of ${peak} in ${heard.length} samples`);
    }
    await rig.kiosk.stop();
    // Played as the phone sent it: same frequency, same level (page volume 1, output volume 1).
    assertPlayedAsSent(capture, phoneWav);
  });

  it('an untrusted caller is refused 403 with an event, and so is a trusted one not in sip.paging.from', async () => {
    const rig = await callRig(pageConfig(undefined, undefined, { from: ['desk@127.0.0.1'] }));
    const media = await mediaEnd(STRANGER);
    const stranger = await pager(rig, 'caller-page-refused.xml', STRANGER, media);
    assert.equal(await stranger.proc.exited, 0, sippTrace(stranger));
    assert.match(sippTrace(stranger), /SIP\/2\.0 403/);
    const refused = await until(() => rig.events().find((e) => e.type === 'call.page' && e.data.state === 'refused'), 3000, 'call.page refused');
    assert.equal(refused.data.code, 403);
    assert.match(refused.data.reason, /trusted path \(udp:127\.0\.0\.2:/);
    // From the trusted address, but the caller (dispatcher@) is not one sip.paging.from allows.
    const other = await mediaEnd(DISPATCHER);
    const notListed = await pager(rig, 'caller-page-refused.xml', DISPATCHER, other);
    assert.equal(await notListed.proc.exited, 0, sippTrace(notListed));
    const second = await until(() => rig.events().filter((e) => e.type === 'call.page' && e.data.state === 'refused')[1], 3000, 'second refusal');
    assert.equal(second.data.code, 403);
    assert.match(second.data.reason, /not in sip\.paging\.from/);
    assert.ok(!rig.events().some((e) => e.type === 'call.page' && e.data.state === 'started'), 'a refused page started');
    assert.equal(media.received + other.received, 0);
    media.close();
    other.close();
  });

  it('a press during a page ends the page at once and the alarm reaches the desk as fast as without it', async () => {
    /** ms from the press to the alarm's INVITE at the desk, with or without a page playing */
    const alarmDelay = async (withPage: boolean) => {
      const d = await desk('desk-ack-dtmf-bye.xml');
      const tap = await inviteTap(d.port);
      const rig = await callRig(withDesk(tap.uri));
      let p: Sipp | undefined;
      let media: MediaEnd | undefined;
      let stop = false;
      let playing: Promise<number> | undefined;
      if (withPage) {
        media = await mediaEnd(DISPATCHER);
        p = await pager(rig, 'caller-page-wait-bye.xml', DISPATCHER, media);
        playing = sendPage(media, await kioskRtpPort(p), 20_000, () => stop);
        await until(() => rig.events().find((e) => e.type === 'pa.started'), 5000, 'the page playing');
        await sleep(300);
      }
      const t0 = Date.now();
      await rig.press('emergency');
      const invite = await until(() => tap.invites[0], 5000, 'INVITE at the emergency desk');
      const ms = invite.at - t0;
      if (withPage) {
        assert.equal(await p!.proc.exited, 0, `the page got no BYE:\n${sippTrace(p!)}`);
        stop = true;
        await playing;
        const ended = await until(() => rig.events().find((e) => e.type === 'call.page' && e.data.state === 'ended'), 5000, 'call.page ended');
        assert.match(ended.data.reason, /alarm/);
        const endedIn = Date.parse((ended as unknown as { at: string }).at) - t0;
        assert.ok(endedIn < 1000, `the page ended ${endedIn} ms after the press`);
        // Silenced at once: what it had queued was dropped, not played out over the alarm.
        const silenced = rig.events().find((e) => e.type === 'pa.ended' && String(e.data.id).startsWith('sip-page-'));
        assert.equal(silenced?.data.reason, 'stopped');
        assert.equal(media!.received, 0);
        media!.close();
      }
      await rig.waitState('connected', 10_000);
      assert.equal(await d.proc.exited, 0, 'the desk acknowledged and hung up');
      tap.close();
      await stopAll();
      return ms;
    };
    const without = await alarmDelay(false);
    const withPage = await alarmDelay(true);
    console.log(`      press to INVITE at the desk: ${without} ms without a page, ${withPage} ms during a page`);
    assert.ok(withPage <= 1000, `INVITE ${withPage} ms after the press during a page`);
    assert.ok(withPage <= 2 * without + 100, `INVITE ${withPage} ms after the press during a page, ${without} ms without`);
  });

  it('a paging INVITE during an alarm call gets 486 with an event; the alarm call goes on', async () => {
    const d = await desk('desk-answer-wait-bye.xml');
    const rig = await callRig(withDesk(d.uri));
    await rig.press('emergency');
    await rig.waitState('connected', 10_000);
    const media = await mediaEnd(DISPATCHER);
    const p = await pager(rig, 'caller-page-refused.xml', DISPATCHER, media);
    assert.equal(await p.proc.exited, 0, sippTrace(p));
    assert.match(sippTrace(p), /SIP\/2\.0 486/);
    const refused = await until(() => rig.events().find((e) => e.type === 'call.page' && e.data.state === 'refused'), 3000, 'call.page refused');
    assert.equal(refused.data.code, 486);
    assert.equal(refused.data.reason, 'an alarm is open');
    assert.ok(rig.states().includes('connected') && !rig.states().some((st) => /^(ended|failed)/.test(st)), `the alarm call was disturbed: ${rig.states().join(', ')}`);
    assert.equal(media.received, 0);
    media.close();
  });
});
