// Runs the call set-up path once, offline, right after the intercom starts: V8
// compiles a function the first time it runs and optimises it after a few
// runs, so without this the first emergency call after a boot pays for
// compiling sip.js's request building and response parsing, our SDP code and
// the RTP stream start (measured: the first call of a run 110-360 ms from the
// press to the first RTP packet at the desk, the later ones about 15 ms). The
// first call after a boot may well be the one that matters.
//
// Nothing leaves the process: the INVITE is built and disposed of unsent, the
// messages are parsed from text, and the RTP stream's peer is the hold address
// 0.0.0.0, to which nothing is sent. It takes a few milliseconds of CPU once.
//
// What the first call of a bench run still paid for after that (profiled):
// the G.711 encoder's 64 Ki-entry table, built by the first packet encoded
// (the stream to 0.0.0.0 encodes nothing), and sip.js's parser interpreting
// the desk's first responses before V8 had optimised it. So each configured
// codec encodes and decodes a frame here, and the responses of a call (100,
// 180, 200 with SDP, the 200 to a BYE) and a BYE are parsed a few times, each
// round with its own tags and branch (sip-grammar.ts remembers repeated values).
import { Core, EmitterImpl, Inviter, SessionState, TransportState, UserAgent, type Transport } from 'sip.js';
import v8 from 'node:v8';
import vm from 'node:vm';
import { UdpReliability } from './transports/reliability.js';
import { CODECS, type Codec } from '../audio/codecs/index.js';
import { createInput } from '../audio/input/index.js';
import { createResamplerSync } from '../audio/resample.js';
import { RtpSessionDescriptionHandler } from './media/handler.js';
import { preferredRtpSocketKind } from './media/rtp-socket.js';

const CRLF = '\r\n';

function answerFor(offer: string, codec: Codec): string {
  const pt = codec.name === 'PCMU' ? 0 : codec.name === 'PCMA' ? 8 : codec.name === 'G722' ? 9 : 0;
  const sessionId = /o=\S+ (\d+)/.exec(offer)?.[1] ?? '1';
  return [
    'v=0',
    `o=warm ${sessionId} 1 IN IP4 0.0.0.0`,
    's=-',
    'c=IN IP4 0.0.0.0',
    't=0 0',
    `m=audio 9 RTP/AVP ${pt} 101`,
    `a=rtpmap:${pt} ${codec.name}/8000`,
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-16',
    'a=ptime:20',
    'a=sendrecv',
    '',
  ].join(CRLF);
}

/** rounds of parsing a call's messages: enough for V8 to optimise the parser's interpreter loop */
const PARSE_ROUNDS = 8;

/**
 * Each codec encodes and decodes one 20 ms frame: its code compiled, G.711's encoding table built. With the
 * microphone's and the mixer's rates, a resampler from and to each codec's rate converts the frame too: the first
 * one loads the native DSP addon, which the first call's mixer channel would otherwise load.
 */
export function warmCodecs(codecs: Codec[], rates: { input?: number; output?: number } = {}): void {
  const convert = (from: number, to: number, pcm: Int16Array) => {
    if (from === to) return;
    const r = createResamplerSync(from, to);
    if (!r) return;
    try {
      r.convert(pcm, new Int16Array(r.maxOut(pcm.length)));
    } finally {
      r.destroy();
    }
  };
  for (const c of codecs) {
    const codec = CODECS[c.name](); // G.722 keeps state: an instance of its own
    const pcm = new Int16Array((c.rate * 20) / 1000);
    for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(8000 * Math.sin(i / 3));
    const out = new Uint8Array(pcm.length);
    const n = codec.encodeInto(pcm, out, 0);
    codec.decodeInto(out, 0, n, new Int16Array(pcm.length));
    if (rates.output) convert(c.rate, rates.output, pcm);
    if (rates.input) convert(rates.input, c.rate, new Int16Array((rates.input * 20) / 1000));
  }
}

/** The messages of a call's set-up and end as the desk sends them, parsed from text (nothing is delivered to sip.js). */
function parseCallMessages(log: ReturnType<UserAgent['getLogger']>, req: { branch: string; callId: string; from: string; to: string; cseq: number }, sdp: string): { parsed: number; unparsed: number } {
  const count = { parsed: 0, unparsed: 0 };
  const parse = (text: string) => void (Core.Parser.parseMessage(text, log) ? count.parsed++ : count.unparsed++);
  for (let round = 0; round < PARSE_ROUNDS; round++) {
    const tag = `warm${round}`;
    const head = (first: string, cseq: string, toTag: boolean, extra: string[], body = '') =>
      [
        first,
        `Via: SIP/2.0/UDP 127.0.0.1:5060;branch=${req.branch}${round};rport=5060;received=127.0.0.1`,
        `From: ${req.from}`,
        `To: ${req.to}${toTag ? `;tag=${tag}` : ''}`,
        `Call-ID: ${req.callId}${round}`,
        `CSeq: ${cseq}`,
        ...extra,
        `Content-Length: ${Buffer.byteLength(body)}`,
        '',
        body,
      ].join(CRLF);
    const contact = `Contact: <sip:desk@127.0.0.1:${5060 + round}>`;
    parse(head('SIP/2.0 100 Trying', `${req.cseq} INVITE`, false, []));
    parse(head('SIP/2.0 180 Ringing', `${req.cseq} INVITE`, true, [contact]));
    parse(head('SIP/2.0 200 OK', `${req.cseq} INVITE`, true, [contact, 'Allow: INVITE, ACK, CANCEL, BYE, INFO, OPTIONS', 'Content-Type: application/sdp'], sdp));
    parse(head(`BYE sip:kiosk@127.0.0.1:${5070 + round} SIP/2.0`, `${req.cseq + 1} BYE`, true, ['Max-Forwards: 70']));
    parse(head('SIP/2.0 200 OK', `${req.cseq + 1} BYE`, true, []));
  }
  return count;
}

/**
 * A scavenge now, at the end of the start-up: the young generation then holds the start-up's and the warm-up's
 * survivors, and the first scavenge to copy them out took 6-9 ms (measured: inside the first call's set-up, after
 * "ready"). V8 offers no such call without --expose-gc; the flag set at run time makes gc() reachable in a new
 * context. Returns false when that is not possible (nothing else changes then).
 */
export function scavengeNow(): boolean {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as ((o: { type: 'minor' | 'major'; execution: 'sync' }) => void) | undefined;
    if (typeof gc !== 'function') return false;
    gc({ type: 'minor', execution: 'sync' });
    return true;
  } catch {
    return false;
  }
}

/** How long the in-process call may take before the warm-up gives it up (it takes milliseconds). */
const LOOPBACK_LIMIT_MS = 3000;

/**
 * A transport that is its own desk: it answers an INVITE with 100 and 200 (an SDP answer to the hold address
 * 0.0.0.0, so our RTP stream sends nothing) and a BYE with 200, from the next turn of the event loop as a
 * network would. Nothing reaches a socket; what sip.js sent and what it was answered is kept for the UDP
 * reliability layer's warm-up.
 */
class LoopbackDesk implements Transport {
  readonly protocol = 'UDP';
  readonly stateChange = new EmitterImpl<TransportState>();
  state = TransportState.Connected;
  onConnect: (() => void) | undefined;
  onDisconnect: ((error?: Error) => void) | undefined;
  onMessage: ((message: string) => void) | undefined;
  readonly sent: string[] = [];
  readonly answered: string[] = [];
  constructor(_logger: unknown, private readonly options: { answer: (offer: string) => string }) {}
  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}
  async dispose(): Promise<void> {}
  isConnected(): boolean {
    return true;
  }
  async send(message: string): Promise<void> {
    this.sent.push(message);
    const method = message.slice(0, message.indexOf(' '));
    const line = (name: string) => new RegExp(`^${name}:.*$`, 'mi').exec(message)?.[0] ?? '';
    const reply = (status: string, toTag: string, extra: string[], body = '') =>
      [`SIP/2.0 ${status}`, line('Via'), line('From'), `${line('To')}${toTag}`, line('Call-ID'), line('CSeq'), ...extra, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join(CRLF);
    const deliver = (m: string) => setImmediate(() => (this.answered.push(m), this.onMessage?.(m)));
    if (method === 'INVITE') {
      const offer = message.slice(message.indexOf(CRLF + CRLF) + 4);
      deliver(reply('100 Trying', '', []));
      deliver(reply('200 OK', ';tag=warm-desk', ['Contact: <sip:desk@127.0.0.1:5060>', 'Allow: INVITE, ACK, CANCEL, BYE, INFO, OPTIONS', 'Content-Type: application/sdp'], this.options.answer(offer)));
    } else if (method === 'BYE') deliver(reply('200 OK', '', []));
  }
}

/**
 * One whole call in the process, on a user agent of its own whose transport is its own desk (LoopbackDesk): sip.js's
 * INVITE client transaction, the dialog and session made by the 200, the ACK, our media handler answered, the BYE and
 * its transaction, then our UDP layer's retransmission bookkeeping over the same messages (its sends go nowhere).
 * Returns the messages exchanged.
 */
export async function loopbackCall(codecs: Codec[]): Promise<{ sent: string[]; answered: string[] }> {
  const codec = codecs[0];
  if (!codec) return { sent: [], answered: [] };
  const input = createInput({ source: 'silence', device: 'default' } as never, 8000);
  let desk: LoopbackDesk | undefined;
  const ua = new UserAgent({
    uri: UserAgent.makeURI('sip:warm-up@127.0.0.1'),
    transportConstructor: class extends LoopbackDesk {
      constructor(logger: unknown, options: { answer: (offer: string) => string }) {
        super(logger, options);
        desk = this;
      }
    },
    transportOptions: { answer: (offer: string) => answerFor(offer, codec) },
    logBuiltinEnabled: false,
    logLevel: 'error',
    viaHost: '127.0.0.1',
    sessionDescriptionHandlerFactory: () => new RtpSessionDescriptionHandler({ localHost: '127.0.0.1', codecs, input, onEvent: () => {}, socketKind: preferredRtpSocketKind() }),
  });
  let timer: NodeJS.Timeout | undefined;
  const within = <T>(p: Promise<T>, what: string) =>
    Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`in-process call: ${what} within ${LOOPBACK_LIMIT_MS} ms`)), LOOPBACK_LIMIT_MS)))]).finally(() => clearTimeout(timer));
  try {
    await ua.start();
    const inviter = new Inviter(ua, UserAgent.makeURI('sip:desk@127.0.0.1')!);
    const reached = (state: SessionState) => new Promise<void>((resolve) => inviter.stateChange.addListener((s) => (s === state || s === SessionState.Terminated) && resolve()));
    const established = reached(SessionState.Established);
    await inviter.invite();
    await within(established, 'no answer');
    if (inviter.state !== SessionState.Established) throw new Error('in-process call: not established');
    // sip.js ends the session as the BYE leaves: the call is over once the BYE's 200 came back
    let answeredBye!: () => void;
    const byeAnswered = new Promise<void>((resolve) => (answeredBye = resolve));
    await inviter.bye({ requestDelegate: { onAccept: () => answeredBye(), onReject: () => answeredBye() } });
    await within(byeAnswered, 'BYE not answered');
  } finally {
    await ua.stop().catch(() => {});
    await input.stop();
  }
  const out = { sent: desk?.sent ?? [], answered: desk?.answered ?? [] };
  const udp = new UdpReliability(() => {});
  try {
    for (const m of out.sent) udp.sent(m, { host: '127.0.0.1', port: 9 });
    for (const m of out.answered) udp.received(m);
  } finally {
    udp.close();
  }
  return out;
}

/** Builds an INVITE, parses a call's responses, starts and closes an RTP stream, runs the codecs: the code of a call set-up, compiled. */
export async function warmCallPath(ua: UserAgent, codecs: Codec[], rates: { input?: number; output?: number } = {}): Promise<{ parsed: number; unparsed: number }> {
  const log = ua.getLogger('helppoint.warm-up');
  warmCodecs(codecs, rates);
  // Our side of the SDP and the RTP stream start (a silent source, no output, nothing sent to 0.0.0.0).
  const input = createInput({ source: 'silence', device: 'default' } as never, 8000);
  const sdh = new RtpSessionDescriptionHandler({ localHost: '127.0.0.1', codecs, input, onEvent: () => {}, socketKind: preferredRtpSocketKind() });
  let offer = '';
  try {
    offer = String((await sdh.getDescription()).body);
    if (codecs[0]) await sdh.setDescription(answerFor(offer, codecs[0]));
  } finally {
    sdh.close();
    await input.stop();
  }
  // sip.js: an INVITE built (not sent), then a 200 OK to it parsed.
  const inviter = new Inviter(ua, UserAgent.makeURI('sip:warm-up@127.0.0.1')!);
  const req = inviter.request;
  const answer = codecs[0] ? answerFor(offer, codecs[0]) : '';
  const response = [
    'SIP/2.0 200 OK',
    `Via: SIP/2.0/UDP 127.0.0.1:5060;branch=${req.branch};rport=5060;received=127.0.0.1`,
    `From: ${req.getHeader('From')}`,
    `To: ${req.getHeader('To')};tag=warmup`,
    `Call-ID: ${req.callId}`,
    `CSeq: ${req.cseq} INVITE`,
    'Contact: <sip:desk@127.0.0.1:5060>',
    'Allow: INVITE, ACK, CANCEL, BYE, INFO, OPTIONS',
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(answer)}`,
    '',
    answer,
  ].join(CRLF);
  Core.Parser.parseMessage(response, log);
  Core.Parser.parseMessage(req.toString(), log);
  await loopbackCall(codecs);
  const count = parseCallMessages(log, { branch: req.branch ?? 'z9hG4bKwarm', callId: req.callId, from: String(req.getHeader('From')), to: String(req.getHeader('To')), cseq: req.cseq }, answer);
  await inviter.dispose();
  scavengeNow();
  return count;
}
