// The output a SIP page plays into (src/audio/sip-page-output.ts): the RTP
// stream's "call" channel becomes a live stream in the page channel with the
// page's priority and volume, its start and end reach the bus as pa.started /
// pa.ended (the screen's announcement), and stop() silences it at once.
import { strict as assert } from 'node:assert';
import { Mixer, type MixerStream } from '../../src/audio/mixer.js';
import { Bus } from '../../src/core/bus.js';
import { sipPageOutput } from '../../src/audio/sip-page-output.js';
import { MemorySink, tone, level } from './helpers.js';
import { sleep } from '../helpers/tmp.js';

const RATE = 16000;

describe('SIP page output', () => {
  it('plays in the page channel at the page\'s priority and volume, ducks music, and reports start and end', async () => {
    const sink = new MemorySink();
    const m = new Mixer({ rate: RATE, frameMs: 10, fadeMs: 0, sink }).start();
    const bus = new Bus();
    const seen: string[] = [];
    bus.on('pa.started', (e) => seen.push(`started ${e.id} ${e.channel}`));
    bus.on('pa.ended', (e) => seen.push(`ended ${e.id} ${e.reason}`));
    try {
      const music = m.openChannel({ channel: 'music', rate: RATE });
      music.write(tone(400, 2000, RATE, 0.5));
      const out = sipPageOutput(m, { id: 'sip-page-1', priority: 120, volume: 0.5, bus });
      const ch = out.openChannel({ channel: 'call', rate: 8000, id: 'call-1' }) as MixerStream;
      assert.equal(ch.channel, 'page');
      assert.equal(ch.priority, 120);
      assert.equal(ch.volume, 0.5);
      assert.equal(ch.live, true);
      for (let i = 0; i < 20; i++) {
        ch.write(tone(1000, 20, 8000, 0.8));
        await sleep(20);
      }
      const during = sink.all().slice(-RATE / 10);
      assert.ok(level(during, 1000, RATE) > 0.3, `the page at ${level(during, 1000, RATE).toFixed(3)}`);
      assert.ok(level(during, 400, RATE) < 0.2, `music under the page at ${level(during, 400, RATE).toFixed(3)}: not ducked`);
      out.stop();
      assert.ok(ch.finished, 'stop() ends the stream at once');
      assert.deepEqual(seen, ['started sip-page-1 page', 'ended sip-page-1 stopped']);
      music.close();
    } finally {
      m.stop();
    }
  });
});
