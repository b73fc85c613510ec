// SDP offer/answer for audio (RFC 3264): we offer our codecs in preference
// order plus telephone-event; we answer with the first of our codecs that the
// offer contains. Hold is a direction change. Ours is written directly
// (buildSdp); the peer's is read with sdp-transform.
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

/**
 * Our offer or answer, written as text directly: it is on every call's set-up path, and sdp-transform's generic
 * writer (a grammar walk per line) cost more than the rest of the offer. The same text sdp-transform writes for it
 * (test/media/sdp.test.ts compares them); sdp-transform still reads the peer's SDP (negotiate).
 */
export function buildSdp(m: LocalMedia, only?: { codec: Codec; payloadType: number; dtmfPt?: number }): string {
  const codecs = only ? [{ codec: only.codec, pt: only.payloadType }] : m.codecs.map((c) => ({ codec: c, pt: c.payloadType }));
  const dtmfPt = only ? only.dtmfPt : m.dtmfPt;
  const pts = codecs.map((c) => c.pt);
  if (dtmfPt !== undefined) pts.push(dtmfPt);
  let s = `v=0\r\no=- ${m.sessionId} ${m.version} IN IP4 ${m.address}\r\ns=helppoint\r\nc=IN IP4 ${m.address}\r\nt=0 0\r\nm=audio ${m.port} RTP/AVP ${pts.join(' ')}\r\n`;
  for (const { codec, pt } of codecs) s += `a=rtpmap:${pt} ${codec.name}/${RTP_CLOCK}\r\n`;
  if (dtmfPt !== undefined) s += `a=rtpmap:${dtmfPt} telephone-event/8000\r\na=fmtp:${dtmfPt} 0-16\r\n`;
  return s + `a=ptime:20\r\na=${m.direction}\r\n`;
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
