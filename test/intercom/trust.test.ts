// Trust by arrival (src/intercom/trust.ts): a call may auto-answer and pulse
// the door only if it came over a trusted path (here: from the desk's address
// in sip.trustedSources), never because its From header names a desk. The
// stranger runs on another loopback address (127.0.0.2) and claims to be the
// desk on 127.0.0.1. RTP latching (media/rtp-stream.ts): a third party that
// sends RTP into a call changes nothing the kiosk plays.
import { strict as assert } from 'node:assert';
import dgram from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { startSipp, type Sipp } from '../../src/testbed/sipp.js';
import { stopAll } from '../../src/testbed/proc.js';
import { buildRtp } from '../../src/intercom/media/rtp-packet.js';
import { CODECS } from '../../src/audio/codecs/index.js';
import { callRig, desk, scenario, targets, type CallRig } from './helpers.js';
import { sleep, tmpDir, until } from '../helpers/tmp.js';
import { level, tone } from '../audio/helpers.js';

const DESK = '127.0.0.1';
const STRANGER = '127.0.0.2';

async function caller(rig: CallRig, name: string, host: string): Promise<Sipp> {
  const port = await rig.sipPort();
  return startSipp({ scenario: scenario(name), host, args: [`127.0.0.1:${port}`, '-set', 'kiosk', 'conc-north', '-set', 'from_host', DESK, '-m', '1'] });
}

function sippTrace(s: Sipp): string {
  return readdirSync(s.dir)
    .filter((f) => f.endsWith('_errors.log') || f.endsWith('_messages.log'))
    .map((f) => readFileSync(path.join(s.dir, f), 'utf8').slice(-2500))
    .join('\n');
}

/** Answers the ringing call the way a person at the kiosk does: the screen's answer button. */
async function answerOnScreen(rig: CallRig): Promise<void> {
  const ws = new WebSocket(rig.kiosk.url.replace('http', 'ws') + 'screen/ws');
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
  ws.send(JSON.stringify({ type: 'answer' }));
  await sleep(100);
  ws.close();
}

const trustConfig = { sip: { autoAnswerFrom: [`desk@${DESK}`], trustedSources: [`${DESK}/32`] } };

describe('intercom: trust by arrival', function () {
  this.timeout(40_000);
  afterEach(() => stopAll());

  it('an INVITE from an unknown address with an allowed desk\'s From and Answer-Mode: Auto rings and is not answered', async () => {
    const rig = await callRig(trustConfig);
    const stranger = await caller(rig, 'caller-spoofed-ring.xml', STRANGER);
    assert.equal(await stranger.proc.exited, 0, `the stranger's call was not just ringing:\n${sippTrace(stranger)}`);
    await rig.waitState('failed', 5000);
    const calls = rig.events().filter((e) => e.type === 'call.state');
    assert.deepEqual(calls.map((e) => e.data.state), ['ringing', 'failed']);
    assert.equal(calls[0]!.data.trusted, false);
    const refused = rig.events().find((e) => e.type === 'call.refused');
    assert.equal(refused?.data.action, 'auto-answer');
    assert.match(refused?.data.reason, /127\.0\.0\.2/);
  });

  it('the same INVITE from the desk\'s own address is answered at once', async () => {
    const rig = await callRig(trustConfig);
    const desk = await caller(rig, 'caller-door-code.xml', DESK);
    assert.equal(await desk.proc.exited, 0, sippTrace(desk));
    await rig.waitState('ended', 5000);
    assert.deepEqual(rig.events().filter((e) => e.type === 'call.state').map((e) => e.data.state), ['connected', 'ended']);
    // A trusted call's door code opens the door.
    assert.ok(rig.events().some((e) => e.type === 'relay.pulse' && e.data.source === 'dtmf'), 'door pulsed');
  });

  it('*1 on a stranger\'s call, answered by a person on the screen, pulses nothing', async () => {
    const rig = await callRig(trustConfig);
    const stranger = await caller(rig, 'caller-door-code.xml', STRANGER);
    await rig.waitState('ringing', 5000);
    await answerOnScreen(rig);
    assert.equal(await stranger.proc.exited, 0, sippTrace(stranger));
    await rig.waitState('ended', 5000);
    assert.deepEqual(rig.events().filter((e) => e.type === 'call.state').map((e) => e.data.state), ['ringing', 'connected', 'ended']);
    assert.ok(rig.events().some((e) => e.type === 'call.dtmf' && e.data.digits.endsWith('*1')), 'the kiosk heard *1');
    assert.ok(!rig.events().some((e) => e.type === 'relay.pulse'), 'the door pulsed');
    const refused = rig.events().find((e) => e.type === 'call.refused' && e.data.action === 'door');
    assert.ok(refused, 'no refusal recorded');
    const sim = (await (await fetch(rig.kiosk.url + 'sim/state')).json()) as { outputs: Record<string, boolean> };
    assert.equal(sim.outputs.doorRelay, false);
  });

  it('a call to the kiosk ends at its time limit (sip.incomingCallTimeLimitS)', async () => {
    const rig = await callRig({ sip: { ...trustConfig.sip, incomingCallTimeLimitS: 2 } });
    const port = await rig.sipPort();
    // This caller never hangs up: it waits for the kiosk's BYE.
    const c = await startSipp({ scenario: scenario('caller-wait-bye.xml'), args: [`127.0.0.1:${port}`, '-set', 'kiosk', 'conc-north', '-set', 'from_host', DESK, '-m', '1'] });
    await rig.waitState('ringing', 5000);
    await answerOnScreen(rig);
    await rig.waitState('connected', 5000);
    assert.equal(await c.proc.exited, 0, sippTrace(c));
    await rig.waitState('ended', 5000);
    // From the kiosk's own record: connected at, ended at.
    const at = (state: string) => Date.parse((rig.events().find((e) => e.type === 'call.state' && e.data.state === state) as unknown as { at: string }).at);
    const took = at('ended') - at('connected');
    assert.ok(took >= 1900 && took < 6000, `ended ${took} ms after it connected`);
  });
});

describe('intercom: RTP latching', function () {
  this.timeout(40_000);
  afterEach(() => stopAll());

  it('RTP injected from a third address (and from another port of the desk) changes nothing the kiosk plays', async () => {
    const capture = path.join(tmpDir('hp-latch-'), 'played.raw');
    // The desk talks 10 s: on a loaded machine the call's "connected" reaches the journal late, and with a 4 s talk the
    // desk's BYE once came halfway through the injection (the packets after it are not the call's to reject).
    const d = await desk('desk-answer-talk-d-bye.xml', ['-d', '10000']);
    const rig = await callRig({
      ...targets([{ uri: d.uri, ringTimeoutS: 10 }]),
      audio: { input: { source: 'silence' }, output: { sink: 'file', file: capture, rate: 16000 }, volume: 1 },
    });
    await rig.press('emergency');
    await rig.waitState('connected', 10_000);
    const invite = await until(() => {
      const log = readdirSync(d.dir).find((f) => f.endsWith('_messages.log'));
      return log && /m=audio (\d+) RTP/.exec(readFileSync(path.join(d.dir, log), 'utf8'))?.[1];
    }, 5000, 'the kiosk\'s RTP port in its INVITE');
    const kioskRtp = Number(invite);
    // A loud 1.5 kHz tone, PCMU, 20 ms packets, from 127.0.0.2 and from another port on the desk's host.
    const pcmu = CODECS.PCMU();
    const loud = tone(1500, 1000, 8000, 0.8);
    const injectors = await Promise.all(
      [STRANGER, DESK].map(
        (host) =>
          new Promise<dgram.Socket>((r) => {
            const s = dgram.createSocket('udp4');
            s.bind(0, host, () => r(s));
          }),
      ),
    );
    let sent = 0;
    for (let i = 0; i < 50; i++) {
      const payload = pcmu.encode(loud.subarray(i * 160, (i + 1) * 160));
      injectors.forEach((s, k) => {
        s.send(buildRtp({ marker: i === 0, payloadType: 0, seq: 1000 + i, timestamp: 8000 + i * 160, ssrc: 0x1234 + k }, payload), kioskRtp, '127.0.0.1');
        sent++;
      });
      await sleep(20);
    }
    injectors.forEach((s) => s.close());
    await rig.waitState('ended', 15_000);
    assert.equal(await d.proc.exited, 0, sippTrace(d));
    const media = await until(() => rig.events().find((e) => e.type === 'call.media'), 5000, 'call.media');
    assert.ok(media.data.packetsRejected >= sent * 0.9, `rejected ${media.data.packetsRejected} of ${sent} injected`);
    assert.ok(media.data.packetsReceived > 50, `the desk's own RTP got through: ${media.data.packetsReceived}`);
    const raw = readFileSync(capture);
    const played = new Int16Array(raw.buffer, raw.byteOffset, raw.byteLength >> 1);
    assert.ok(played.length > 16000, `played ${played.length} samples`);
    // The desk echoes the kiosk's silence: nothing at 1.5 kHz anywhere.
    let worst = 0;
    for (let o = 0; o + 800 <= played.length; o += 800) worst = Math.max(worst, level(played.subarray(o, o + 800), 1500, 16000));
    assert.ok(worst < 0.01, `1.5 kHz at ${worst.toFixed(3)} of full scale in what the kiosk played`);
  });
});
