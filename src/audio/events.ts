import type { ChannelName } from './types.js';
import type { LocalText } from '../display/events.js';

export interface PaPlay {
  id: string;
  channel: ChannelName;
  /** one of: a bundled message id (audio/messages), or a stored clip by content hash fetched from url */
  message?: string;
  clip?: { sha256: string; url: string };
  text?: LocalText;
  chime?: boolean;
  /** start instant on the hub's clock (ms since epoch); play at once when absent */
  startAt?: number;
  repeat?: { times: number; intervalS: number };
  volume?: number;
  /** a drill: "This is a drill" is spoken before the message in each language and the screen text says so */
  drill?: boolean;
}

/** A live page from the hub: the RTP stream that carries it (see rtp-page.ts); active=false ends it. */
export interface PaPage {
  id: string;
  active: boolean;
  /** the page's multicast group per zone: this kiosk takes its own zone's, else the first */
  groups?: { zone?: string; group: string; port: number }[];
  ssrc?: number;
  priority?: number;
  emergency?: boolean;
  text?: LocalText;
  /** no packet of the page by then: the kiosk reports it missed (and says where it takes unicast) */
  missAfterMs?: number;
}

export interface AudioEvents {
  'audio.fault': { active: boolean; reason: string };
  /** what the hands-free path runs (src/dsp/handsfree.ts); `problem` says why something configured does not */
  'audio.handsFree': { mode: string; running: 'aec' | 'half-duplex' | 'off'; noiseSuppression: boolean; agc: boolean; problem?: string };
  'pa.play': PaPlay;
  'pa.stop': { id: string };
  'pa.page': PaPage;
  /** a live page announced by the hub did not arrive on its multicast group; unicastPort: where this kiosk takes it instead */
  'pa.missed': { id: string; reason: string; unicastPort?: number };
  'pa.started': { id: string; channel: string; text?: LocalText; via?: 'multicast' | 'unicast' };
  'pa.ended': { id: string; channel: string; reason: 'done' | 'stopped' | 'preempted' | 'error'; error?: string };
}
