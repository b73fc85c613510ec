// The output a SIP page call plays into (sip.paging, src/intercom/paging.ts):
// its RTP stream opens the "call" channel as every call does; here that
// becomes a live stream in the "page" channel with the page's priority and
// volume, so the arbiter treats it as a hub page (a page mixes into a call,
// ducks announcements and music; the emergency channel is above it). Its
// start and end are reported as `pa.started` / `pa.ended` under the page's
// id, so the screen shows "announcement" as for a hub page. `stop()` silences
// it at once (an alarm: what is queued is dropped, not played out).
import type { Bus } from '../core/bus.js';
import type { AudioChannel, AudioOutput } from './types.js';
import type { MixerStream, StreamOptions } from './mixer.js';
import { HUB_PAGE_MAX_LAG_MS } from './rtp-page.js';

export interface SipPageOutputOptions {
  /** the page's id in pa.started / pa.ended */
  id: string;
  priority: number;
  volume: number;
  bus: Bus;
}

export function sipPageOutput(out: AudioOutput, o: SipPageOutputOptions): AudioOutput & { stop(): void } {
  let current: AudioChannel | undefined;
  let stopped = false;
  return {
    rate: out.rate,
    stop: () => {
      stopped = true;
      current?.close();
    },
    openChannel: (opts) => {
      const page: StreamOptions = { channel: 'page', rate: opts.rate, id: o.id, priority: o.priority, volume: o.volume, live: true, maxLagMs: HUB_PAGE_MAX_LAG_MS };
      // The mixer takes priority and liveness too (StreamOptions); the AudioOutput contract names fewer.
      const stream = out.openChannel(page as never) as AudioChannel & Partial<Pick<MixerStream, 'onStart' | 'onEnd'>>;
      stream.onStart = () => o.bus.emit('pa.started', { id: o.id, channel: 'page' });
      stream.onEnd = (reason, error) => o.bus.emit('pa.ended', { id: o.id, channel: 'page', reason: reason === 'closed' ? 'stopped' : reason, ...(error ? { error } : {}) });
      current = stream;
      if (stopped) stream.close();
      return stream;
    },
  };
}
