// A sip.js SessionDescriptionHandler for Node: SDP offer/answer (sdp.ts) in
// front of one RtpStream. sip.js calls getDescription for our offer or answer
// and setDescription with the peer's; re-INVITEs (hold/unhold) go through the
// same two calls.
import type { BodyAndContentType, SessionDescriptionHandler, SessionDescriptionHandlerOptions } from 'sip.js';
import type { Codec } from '../../audio/codecs/index.js';
import type { AudioInput, AudioOutput } from '../../audio/types.js';
import { RtpStream, type MediaEvent, type RtpStats } from './rtp-stream.js';
import { setupTrace } from '../../core/setup-trace.js';
import type { RtpSpare } from './rtp-spare.js';
import type { RtpSocketKind } from './rtp-socket.js';
import { answerDirection, buildSdp, negotiate, type Direction, type Negotiated } from './sdp.js';

export interface HandlerOptions {
  localHost: string;
  rtpPortRange?: { min: number; max: number };
  codecs: Codec[];
  input: AudioInput;
  output?: AudioOutput;
  onEvent: (e: MediaEvent) => void;
  /** no RTP from the far end for this long is reported (0: never); read when the media starts */
  silenceTimeoutMs?: () => number;
  /** a socket bound ahead of the call, taken if one is ready (else the stream binds its own when the SDP needs it) */
  spare?: RtpSpare;
  /** a SIP page: our SDP says recvonly (RFC 3264), the microphone is never taken, nothing is sent */
  receiveOnly?: boolean;
  /** the kind of RTP socket the stream binds when no spare is taken (rtp-socket.ts; default node) */
  socketKind?: RtpSocketKind;
}

const DTMF_PT = 101;

export class RtpSessionDescriptionHandler implements SessionDescriptionHandler {
  readonly stream: RtpStream;
  private bound?: Promise<number>;
  private remote?: Negotiated;
  /** the remote offer awaiting our answer */
  private pendingOffer = false;
  private version = 0;
  private readonly sessionId = Math.floor(Math.random() * 1e9);
  private localDirection: Direction;

  constructor(private readonly opts: HandlerOptions) {
    this.localDirection = opts.receiveOnly ? 'recvonly' : 'sendrecv';
    const pre = opts.spare?.take();
    this.stream = new RtpStream(opts.input, opts.output, opts.onEvent, pre, !!opts.receiveOnly, opts.socketKind);
    if (pre) this.bound = Promise.resolve(pre.port);
  }

  private port(): Promise<number> {
    this.bound ??= this.stream.bind(this.opts.localHost, this.opts.rtpPortRange);
    return this.bound;
  }

  /** options.gate (an alarm call): the offer is built at once and handed over only once the gate settles. */
  async getDescription(options?: SessionDescriptionHandlerOptions): Promise<BodyAndContentType> {
    const body = await this.describe();
    setupTrace.mark('offer');
    const gate = (options as { gate?: Promise<unknown> } | undefined)?.gate;
    if (gate) await gate.catch(() => {});
    return body;
  }

  private async describe(): Promise<BodyAndContentType> {
    const port = await this.port();
    const local = { address: this.opts.localHost, port, codecs: this.opts.codecs, dtmfPt: DTMF_PT, sessionId: this.sessionId, version: this.version++ };
    if (this.pendingOffer && this.remote) {
      this.pendingOffer = false;
      this.localDirection = this.answerTo(this.remote.remoteDirection);
      this.apply();
      const body = buildSdp({ ...local, direction: this.localDirection }, { codec: this.remote.codec, payloadType: this.remote.payloadType, dtmfPt: this.remote.dtmfPt });
      return { body, contentType: 'application/sdp' };
    }
    return { body: buildSdp({ ...local, direction: this.localDirection }), contentType: 'application/sdp' };
  }

  async setDescription(sdp: string): Promise<void> {
    await this.port();
    // An offer arrives when we have not offered (incoming call, re-INVITE); otherwise it answers ours.
    const isAnswer = !this.pendingOffer && this.remote === undefined && this.version > 0;
    const isReofferAfterAnswer = this.remote !== undefined;
    const n = negotiate(sdp, this.opts.codecs, !isAnswer);
    this.remote = n;
    if (isAnswer) {
      this.apply();
    } else {
      this.pendingOffer = true;
      if (isReofferAfterAnswer) this.apply(this.answerTo(n.remoteDirection));
    }
  }

  /** Our direction in an answer; receive-only: recvonly to a peer that sends, else inactive (RFC 3264 6.1). */
  private answerTo(remote: Direction): Direction {
    if (!this.opts.receiveOnly) return answerDirection(remote);
    return remote === 'sendrecv' || remote === 'sendonly' ? 'recvonly' : 'inactive';
  }

  private apply(direction = this.localDirection): void {
    if (!this.remote) return;
    this.stream.configure({ codec: this.remote.codec, payloadType: this.remote.payloadType, dtmfPt: this.remote.dtmfPt, remote: this.remote.remote, direction });
    this.stream.watchSilence(this.opts.silenceTimeoutMs?.() ?? 0);
  }

  hasDescription(contentType: string): boolean {
    return contentType === 'application/sdp';
  }

  async rollbackDescription(): Promise<void> {
    this.pendingOffer = false;
  }

  sendDtmf(tones: string): boolean {
    return this.stream.sendDtmf(tones);
  }

  stats(): RtpStats {
    return this.stream.stats();
  }

  close(): void {
    this.stream.close();
  }
}
