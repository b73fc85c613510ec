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
}

export interface AudioEvents {
  'audio.fault': { active: boolean; reason: string };
  /** what the hands-free path runs (src/dsp/handsfree.ts); `problem` says why something configured does not */
  'audio.handsFree': { mode: string; running: 'aec' | 'half-duplex' | 'off'; noiseSuppression: boolean; agc: boolean; problem?: string };
  'pa.play': PaPlay;
  'pa.stop': { id: string };
  'pa.started': { id: string; channel: string; text?: LocalText };
  'pa.ended': { id: string; channel: string; reason: 'done' | 'stopped' | 'preempted' | 'error'; error?: string };
}
