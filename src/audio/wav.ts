// Minimal RIFF/WAVE reader and writer for the clips and bundled messages:
// 16-bit PCM only (what espeak-ng/sox produce and the mixer plays). Anything
// else is rejected with a reason rather than played as noise.

import os from 'node:os';

export interface Pcm {
  rate: number;
  samples: Int16Array;
}

export function parseWav(buf: Buffer): Pcm {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error('not a WAV file (no RIFF/WAVE header)');
  }
  let fmt: { format: number; channels: number; rate: number; bits: number } | undefined;
  let off = 12;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    let size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buf.length) throw new Error('WAV fmt chunk truncated');
      let format = buf.readUInt16LE(body);
      if (format === 0xfffe && size >= 26) format = buf.readUInt16LE(body + 24); // WAVE_FORMAT_EXTENSIBLE: sub-format GUID
      fmt = { format, channels: buf.readUInt16LE(body + 2), rate: buf.readUInt32LE(body + 4), bits: buf.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (!fmt) throw new Error('WAV data chunk before fmt chunk');
      if (fmt.format !== 1 || fmt.bits !== 16) throw new Error(`unsupported WAV encoding (format ${fmt.format}, ${fmt.bits} bit): 16-bit PCM needed`);
      if (fmt.channels < 1 || fmt.channels > 8) throw new Error(`unsupported WAV channel count ${fmt.channels}`);
      if (fmt.rate < 4000 || fmt.rate > 192000) throw new Error(`unsupported WAV sample rate ${fmt.rate}`);
      if (size === 0xffffffff || body + size > buf.length) size = buf.length - body; // streamed WAVs leave the size open
      const frames = Math.floor(size / (2 * fmt.channels));
      if (fmt.channels === 1 && os.endianness() === 'LE') {
        // mono: one copy, no per-sample work (bundled messages are loaded at start-up)
        const samples = new Int16Array(frames);
        Buffer.from(samples.buffer).set(buf.subarray(body, body + frames * 2));
        return { rate: fmt.rate, samples };
      }
      const samples = new Int16Array(frames);
      for (let i = 0; i < frames; i++) {
        let acc = 0;
        for (let c = 0; c < fmt.channels; c++) acc += buf.readInt16LE(body + (i * fmt.channels + c) * 2);
        samples[i] = fmt.channels === 1 ? acc : Math.round(acc / fmt.channels);
      }
      return { rate: fmt.rate, samples };
    }
    off = body + size + (size & 1);
  }
  throw new Error('WAV file has no data chunk');
}

export function wavHeader(rate: number, dataBytes: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(dataBytes >= 0xffffffff - 36 ? 0xffffffff : 36 + dataBytes, 4);
  h.write('WAVEfmt ', 8, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(Math.min(dataBytes, 0xffffffff), 40);
  return h;
}

export function encodeWav(pcm: Pcm): Buffer {
  const data = Buffer.from(pcm.samples.buffer, pcm.samples.byteOffset, pcm.samples.byteLength);
  return Buffer.concat([wavHeader(pcm.rate, data.length), data]);
}
