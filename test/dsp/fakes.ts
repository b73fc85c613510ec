// Stand-ins shared by the hands-free tests: the mixer's frame tap, driven
// frame by frame (synthetic time, no timers), and the kiosk's hands-free
// config with its schema defaults.
import type { FrameListener } from '../../src/audio/mixer.js';
import type { HandsFreeConfig } from '../../src/dsp/handsfree.js';
import { KioskConfigSchema } from '../../src/config/schema/kiosk.js';
import { Value } from '@sinclair/typebox/value';

export const RATE = 16000;
/** the mixer's 10 ms at RATE */
export const FRAME = 160;

/** What the mixer plays, frame by frame, to whoever listens (the echo reference, the simulated room). */
export class Tap {
  readonly rate = RATE;
  readonly frameMs = 10;
  readonly ls = new Set<FrameListener>();
  onFrame(l: FrameListener) {
    this.ls.add(l);
    return () => this.ls.delete(l);
  }
  play(frame: Int16Array, t0: number) {
    for (const l of this.ls) l(frame, t0);
  }
}

export function handsFreeConfig(over: Partial<HandsFreeConfig> = {}): HandsFreeConfig {
  const defaults = Value.Default(KioskConfigSchema.properties.audio.properties.handsFree, {}) as HandsFreeConfig;
  return { ...defaults, ...over };
}
