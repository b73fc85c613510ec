import { strict as assert } from 'node:assert';
import { G722Decoder, G722Encoder } from '../../src/audio/codecs/g722.js';
import { PCMA, PCMU } from '../../src/audio/codecs/g711.js';

function tone(hz: number, rate: number, seconds: number, amp = 8000): Int16Array {
  return Int16Array.from({ length: rate * seconds }, (_, i) => Math.round(amp * Math.sin((2 * Math.PI * hz * i) / rate)));
}
function measure(x: Int16Array, rate: number, skip: number): { hz: number; rms: number } {
  let zc = 0;
  let sum = 0;
  for (let i = skip + 1; i < x.length; i++) {
    if (x[i - 1]! < 0 !== x[i]! < 0) zc++;
    sum += x[i]! * x[i]!;
  }
  const n = x.length - skip - 1;
  return { hz: zc / 2 / (n / rate), rms: Math.sqrt(sum / n) };
}

describe('codecs', () => {
  for (const hz of [300, 1000, 3000, 6000]) {
    it(`G.722 keeps a ${hz} Hz tone's frequency and level through encode and decode`, () => {
      const input = tone(hz, 16000, 1);
      const bytes = new G722Encoder().encode(input);
      assert.equal(bytes.length, input.length / 2, 'one byte per two samples (64 kbit/s)');
      const out = new G722Decoder().decode(bytes);
      const a = measure(input, 16000, 800);
      const b = measure(out, 16000, 800);
      assert.ok(Math.abs(b.hz - a.hz) / a.hz < 0.02, `${b.hz} Hz`);
      assert.ok(Math.abs(b.rms - a.rms) / a.rms < 0.06, `rms ${b.rms} vs ${a.rms}`);
    });
  }

  it('G.722 decodes silence to near silence', () => {
    const out = new G722Decoder().decode(new G722Encoder().encode(new Int16Array(3200)));
    assert.ok(measure(out, 16000, 100).rms < 20);
  });

  for (const c of [PCMU, PCMA]) {
    it(`${c.name} round trip stays within the G.711 quantisation error`, () => {
      const input = tone(1000, 8000, 1, 20000);
      const out = c.decode(c.encode(input));
      for (let i = 0; i < input.length; i++) assert.ok(Math.abs(out[i]! - input[i]!) <= Math.max(16, Math.abs(input[i]!) / 16), `sample ${i}: ${input[i]} -> ${out[i]}`);
    });
  }
});

describe('codecs: the in-place forms the call path uses', () => {
  it('G.711 table encoders give the same bytes as the segment encoders for every 16-bit sample', () => {
    const all = Int16Array.from({ length: 65536 }, (_, i) => (i << 16) >> 16);
    for (const c of [PCMU, PCMA]) {
      const out = Buffer.alloc(70000);
      assert.equal(c.encodeInto(all, out, 7), 65536);
      assert.ok(out.subarray(7, 7 + 65536).equals(c.encode(all)), `${c.name} differs`);
      const pcm = new Int16Array(65536);
      assert.equal(c.decodeInto(out, 7, 7 + 65536, pcm), 65536);
      assert.deepEqual(pcm, c.decode(c.encode(all)));
    }
  });

  it('G.722 encodeInto/decodeInto match encode/decode, state carried across calls', () => {
    const input = tone(1000, 16000, 1);
    const a = new G722Encoder();
    const b = new G722Encoder();
    const packet = Buffer.alloc(12 + 160);
    const da = new G722Decoder();
    const db = new G722Decoder();
    const frame = new Int16Array(320);
    for (let i = 0; i < input.length; i += 320) {
      const chunk = input.subarray(i, i + 320);
      assert.equal(a.encodeInto(chunk, packet, 12), 160);
      const ref = b.encode(chunk);
      assert.ok(packet.subarray(12).equals(ref));
      assert.equal(da.decodeInto(packet, 12, 172, frame), 320);
      assert.deepEqual(frame, db.decode(ref));
    }
  });
});
