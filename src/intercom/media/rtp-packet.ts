// RTP packets (RFC 3550): the fixed 12-byte header plus CSRCs and an optional
// header extension, which we skip. Anything malformed parses to undefined.
export interface RtpPacket {
  marker: boolean;
  payloadType: number;
  seq: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
}

export function parseRtp(buf: Buffer): RtpPacket | undefined {
  if (buf.length < 12 || buf[0]! >> 6 !== 2) return undefined;
  const cc = buf[0]! & 0x0f;
  const hasExt = (buf[0]! & 0x10) !== 0;
  const padding = (buf[0]! & 0x20) !== 0;
  let off = 12 + cc * 4;
  if (hasExt) {
    if (buf.length < off + 4) return undefined;
    off += 4 + buf.readUInt16BE(off + 2) * 4;
  }
  let end = buf.length;
  if (padding) end -= buf[buf.length - 1]!;
  if (off > end) return undefined;
  return {
    marker: (buf[1]! & 0x80) !== 0,
    payloadType: buf[1]! & 0x7f,
    seq: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    payload: buf.subarray(off, end),
  };
}

/** A parsed header that is filled in place (the receive path parses every packet into one of these). */
export interface RtpHeader {
  marker: boolean;
  payloadType: number;
  seq: number;
  timestamp: number;
  ssrc: number;
  /** payload = buf[payloadStart, payloadEnd) */
  payloadStart: number;
  payloadEnd: number;
}

export function newRtpHeader(): RtpHeader {
  return { marker: false, payloadType: 0, seq: 0, timestamp: 0, ssrc: 0, payloadStart: 0, payloadEnd: 0 };
}

/** parseRtp without allocating: fills h; false for anything malformed. */
/** Parses bytes [0, len) of buf (a reused receive buffer holds more) into h; false when they are no RTP packet. */
export function readRtp(buf: Uint8Array, h: RtpHeader, len = buf.length): boolean {
  if (len < 12 || buf[0]! >> 6 !== 2) return false;
  const cc = buf[0]! & 0x0f;
  let off = 12 + cc * 4;
  if ((buf[0]! & 0x10) !== 0) {
    if (len < off + 4) return false;
    off += 4 + ((buf[off + 2]! << 8) | buf[off + 3]!) * 4;
  }
  let end = len;
  if ((buf[0]! & 0x20) !== 0) end -= buf[len - 1]!;
  if (off > end) return false;
  h.marker = (buf[1]! & 0x80) !== 0;
  h.payloadType = buf[1]! & 0x7f;
  h.seq = (buf[2]! << 8) | buf[3]!;
  h.timestamp = ((buf[4]! << 24) | (buf[5]! << 16) | (buf[6]! << 8) | buf[7]!) >>> 0;
  h.ssrc = ((buf[8]! << 24) | (buf[9]! << 16) | (buf[10]! << 8) | buf[11]!) >>> 0;
  h.payloadStart = off;
  h.payloadEnd = end;
  return true;
}

/** Writes the fixed 12-byte header at the start of buf (the send path: no allocation). */
export function writeRtpHeader(buf: Uint8Array, marker: boolean, payloadType: number, seq: number, timestamp: number, ssrc: number): void {
  buf[0] = 0x80;
  buf[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
  buf[2] = (seq >> 8) & 0xff;
  buf[3] = seq & 0xff;
  buf[4] = (timestamp >>> 24) & 0xff;
  buf[5] = (timestamp >>> 16) & 0xff;
  buf[6] = (timestamp >>> 8) & 0xff;
  buf[7] = timestamp & 0xff;
  buf[8] = (ssrc >>> 24) & 0xff;
  buf[9] = (ssrc >>> 16) & 0xff;
  buf[10] = (ssrc >>> 8) & 0xff;
  buf[11] = ssrc & 0xff;
}

export function buildRtp(p: Omit<RtpPacket, 'payload'>, payload: Buffer): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f);
  h.writeUInt16BE(p.seq & 0xffff, 2);
  h.writeUInt32BE(p.timestamp >>> 0, 4);
  h.writeUInt32BE(p.ssrc >>> 0, 8);
  return Buffer.concat([h, payload]);
}

/** RFC 4733 telephone-event payload. */
export interface DtmfEvent {
  event: number;
  end: boolean;
  volume: number;
  duration: number;
}
export const DTMF_CHARS = '0123456789*#ABCD';

export function parseDtmf(payload: Buffer): DtmfEvent | undefined {
  if (payload.length < 4) return undefined;
  return { event: payload[0]!, end: (payload[1]! & 0x80) !== 0, volume: payload[1]! & 0x3f, duration: payload.readUInt16BE(2) };
}

export function buildDtmf(e: DtmfEvent): Buffer {
  const b = Buffer.alloc(4);
  b[0] = e.event;
  b[1] = (e.end ? 0x80 : 0) | (e.volume & 0x3f);
  b.writeUInt16BE(e.duration & 0xffff, 2);
  return b;
}
