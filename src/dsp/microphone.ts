// The kiosk's microphone as the call media sees it: the configured source
// (ALSA, a WAV file, silence, or the simulated room) behind the hands-free
// processing (echo cancelling against the mixer's loudspeaker signal, noise
// suppression, gain; or half-duplex). Both the raw source and the hands-free
// chain run only while a user holds a lease (src/audio/shared-input.ts); a
// source that fails to start is reported through onError (the audio fault).
import type { KioskConfig } from '../config/schema/kiosk.js';
import { createInput } from '../audio/input/index.js';
import { RoomInput } from '../audio/input/room.js';
import { SharedInput } from '../audio/shared-input.js';
import { HandsFreeInput, type HandsFreeStatus, type SpeakerTap } from './handsfree.js';

export interface MicrophoneOptions {
  config: KioskConfig;
  /** the mixer (the loudspeaker); absent when audio output did not start */
  speaker?: SpeakerTap;
  /** rate of a real microphone */
  rate?: number;
  onError?: (msg: string) => void;
  onStatus?: (s: HandsFreeStatus) => void;
}

export function createMicrophone(o: MicrophoneOptions): HandsFreeInput {
  const inCfg = o.config.audio.input;
  let raw;
  if (inCfg.source === 'room') {
    if (!o.speaker) throw new Error('the room source needs the audio output (mixer), which did not start');
    raw = new RoomInput(o.speaker, inCfg.room ?? {}, inCfg.file);
  } else raw = createInput(inCfg, o.rate ?? 8000, o.onError);
  return new HandsFreeInput(new SharedInput(raw, o.onError), o.speaker, o.config.audio.handsFree, o.onStatus);
}
