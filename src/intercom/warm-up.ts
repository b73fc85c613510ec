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
import { Core, Inviter, UserAgent } from 'sip.js';
import type { Codec } from '../audio/codecs/index.js';
import { createInput } from '../audio/input/index.js';
import { RtpSessionDescriptionHandler } from './media/handler.js';

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

/** Builds an INVITE, parses a 200 OK with SDP, and starts and closes an RTP stream: the code of a call set-up, compiled. */
export async function warmCallPath(ua: UserAgent, codecs: Codec[]): Promise<void> {
  const log = ua.getLogger('helppoint.warm-up');
  // Our side of the SDP and the RTP stream start (a silent source, no output, nothing sent to 0.0.0.0).
  const input = createInput({ source: 'silence', device: 'default' } as never, 8000);
  const sdh = new RtpSessionDescriptionHandler({ localHost: '127.0.0.1', codecs, input, onEvent: () => {} });
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
  await inviter.dispose();
}
