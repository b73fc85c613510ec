// SDP offer/answer for audio (RFC 3264) with sdp-transform: we offer our
// codecs in preference order plus telephone-event; we answer with the first
// of our codecs that the offer contains. Hold is a direction change.
import sdpTransform from 'sdp-transform';
import { RTP_CLOCK, type Codec } from '../../audio/codecs/index.js';

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface LocalMedia {
  address: string;
  port: number;
  codecs: Codec[];
  dtmfPt: number;
  direction: Direction;
  sessionId: number;
  version: number;
}

export interface Negotiated {
  codec: Codec;
  payloadType: number;
  dtmfPt?: number;
  remote: { host: string; port: number };
  /** the direction the remote side declared */
  remoteDirection: Direction;
}

export function buildSdp(m: LocalMedia, only?: { codec: Codec; payloadType: number; dtmfPt?: number }): string {
  const codecs = only ? [{ codec: only.codec, pt: only.payloadType }] : m.codecs.map((c) => ({ codec: c, pt: c.payloadType }));
  const dtmfPt = only ? only.dtmfPt : m.dtmfPt;
  const rtp: { payload: number; codec: string; rate: number }[] = codecs.map(({ codec, pt }) => ({ payload: pt, codec: codec.name, rate: RTP_CLOCK }));
  const fmtp: { payload: number; config: string }[] = [];
  if (dtmfPt !== undefined) {
    rtp.push({ payload: dtmfPt, codec: 'telephone-event', rate: 8000 });
    fmtp.push({ payload: dtmfPt, config: '0-16' });
  }
  return sdpTransform.write({
    version: 0,
    origin: { username: '-', sessionId: m.sessionId, sessionVersion: m.version, netType: 'IN', ipVer: 4, address: m.address },
    name: 'helppoint',
    connection: { version: 4, ip: m.address },
    timing: { start: 0, stop: 0 },
    media: [
      {
        type: 'audio',
        port: m.port,
        protocol: 'RTP/AVP',
        payloads: rtp.map((r) => r.payload).join(' '),
        rtp,
        fmtp,
        ptime: 20,
        direction: m.direction,
      },
    ],
  } as sdpTransform.SessionDescription);
}

const STATIC: Record<number, string> = { 0: 'PCMU', 8: 'PCMA', 9: 'G722' };

/** Reads the remote audio description; picks a codec from ours (ours in preference order when answering). */
export function negotiate(sdp: string, ours: Codec[], weAreAnswering: boolean): Negotiated {
  let parsed: sdpTransform.SessionDescription;
  try {
    parsed = sdpTransform.parse(sdp);
  } catch (err) {
    throw new Error(`unreadable SDP: ${(err as Error).message}`);
  }
  const audio = parsed.media.find((m) => m.type === 'audio' && m.port !== 0);
  if (!audio) throw new Error('SDP has no active audio stream');
  if (!/^RTP\/AVP$/i.test(audio.protocol)) throw new Error(`unsupported media profile ${audio.protocol} (RTP/AVP only)`);
  const host = audio.connection?.ip ?? parsed.connection?.ip;
  if (!host) throw new Error('SDP has no connection address');
  const pts = String(audio.payloads ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
  const nameOf = (pt: number) => audio.rtp.find((r) => r.payload === pt)?.codec.toUpperCase() ?? STATIC[pt];
  const offered = pts.map((pt) => ({ pt, name: nameOf(pt) }));
  const order = weAreAnswering ? ours.map((c) => offered.find((o) => o.name === c.name)).filter((o) => o !== undefined) : offered.filter((o) => ours.some((c) => c.name === o.name));
  const pick = order[0];
  if (!pick) throw new Error(`no common codec (offered: ${offered.map((o) => o.name ?? o.pt).join(', ')})`);
  const dtmf = audio.rtp.find((r) => r.codec.toLowerCase() === 'telephone-event' && r.rate === 8000);
  const dir = (audio.direction ?? parsed.direction ?? 'sendrecv') as Direction;
  const remoteDirection = host === '0.0.0.0' && dir === 'sendrecv' ? 'inactive' : dir; // RFC 2543 style hold
  return { codec: ours.find((c) => c.name === pick.name)!, payloadType: pick.pt, dtmfPt: dtmf?.payload, remote: { host, port: audio.port }, remoteDirection };
}

/** Our direction in an answer to a remote direction. */
export function answerDirection(remote: Direction): Direction {
  return remote === 'sendonly' ? 'recvonly' : remote === 'recvonly' ? 'sendonly' : remote;
}
