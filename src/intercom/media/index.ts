// The media entry point for the intercom: a sip.js SessionDescriptionHandler
// factory that gives each call real RTP audio in Node.
import type { Session, SessionDescriptionHandlerFactory } from 'sip.js';
import { CODECS, type Codec, type CodecName } from '../../audio/codecs/index.js';
import type { AudioInput, AudioOutput } from '../../audio/types.js';
import { RtpSessionDescriptionHandler } from './handler.js';
import type { MediaEvent } from './rtp-stream.js';
import type { RtpSpare } from './rtp-spare.js';
import type { RtpSocketKind } from './rtp-socket.js';

export type { MediaEvent, RtpStats } from './rtp-stream.js';
export { RtpSessionDescriptionHandler } from './handler.js';
export { RtpSpare } from './rtp-spare.js';
export { preferredRtpSocketKind, type RtpSocketKind } from './rtp-socket.js';

/** A session's own media: a test call's tone and detector, or a SIP page's page-channel output (receiveOnly). */
export interface SessionMedia {
  input: AudioInput;
  output?: AudioOutput;
  receiveOnly?: boolean;
}

export interface MediaOptions {
  localHost: string;
  rtpPortRange?: { min: number; max: number };
  codecs: string[];
  input: AudioInput;
  output?: AudioOutput;
  onEvent?: (sessionId: string, e: MediaEvent) => void;
  warn?: (msg: string) => void;
  /** no RTP from the far end for this long is reported (0: never) */
  silenceTimeoutMs?: () => number;
  /** a session with its own media (a supervision test call: a tone out, a detector in) */
  mediaFor?: (session: Session) => SessionMedia | undefined;
  /** RTP sockets bound ahead of the calls (rtp-spare.ts) */
  spare?: RtpSpare;
  /** the kind of RTP socket a call binds without a spare (rtp-socket.ts; default node) */
  socketKind?: RtpSocketKind;
}

/** Our codecs in the configured preference order; unknown or unavailable ones are named once and dropped. */
export function codecList(names: string[], warn: (msg: string) => void = () => {}): Codec[] {
  const out: Codec[] = [];
  for (const n of names) {
    const make = CODECS[n as CodecName];
    if (make) out.push(make());
    else warn(`codec ${n} is not available in this build; offering ${Object.keys(CODECS).join(', ')}`);
  }
  if (out.length === 0) out.push(CODECS.PCMU(), CODECS.PCMA());
  return out;
}

export function createMediaFactory(opts: MediaOptions): SessionDescriptionHandlerFactory {
  const codecs = codecList(opts.codecs, opts.warn);
  return (session: Session) => {
    const own = opts.mediaFor?.(session);
    return new RtpSessionDescriptionHandler({
      localHost: opts.localHost,
      rtpPortRange: opts.rtpPortRange,
      codecs,
      input: own ? own.input : opts.input,
      output: own ? own.output : opts.output,
      onEvent: (e) => opts.onEvent?.(session.id, e),
      silenceTimeoutMs: opts.silenceTimeoutMs,
      spare: opts.spare,
      receiveOnly: own?.receiveOnly,
      socketKind: opts.socketKind,
    });
  };
}
