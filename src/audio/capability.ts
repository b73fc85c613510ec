// Audio as a kiosk capability: the mixer exists at once (other capabilities
// write to it); the device is probed off-process, and a missing ALSA device
// costs a fault, never the process. The microphone belongs here too: the
// intercom sends it, adaptive PA volume listens to it.
import type { KioskCapability, KioskContext } from '../core/context.js';
import { healthOf } from '../core/capability.js';
import { AudioEngine } from './engine.js';
import { addPaRoutes } from './local-routes.js';
import type { ConfigChange } from '../core/capability.js';
import type { ConfigSection } from '../core/context.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import { reconfigureAudio } from './reconfigure.js';
import { createMicrophone } from '../dsp/microphone.js';
import type { HandsFreeInput } from '../dsp/handsfree.js';

/** the microphone runs at the call's narrowband rate; wideband codecs resample */
const MIC_RATE = 8000;

export class AudioCapability implements KioskCapability {
  readonly name = 'audio';
  readonly fault = 'audio' as const;
  /** zone and site: volume by zone and time of day; hub: where clips come from */
  readonly config = ['audio', 'pa', 'zone', 'site', 'hub'] as const;
  readonly raises = ['pa.started', 'pa.ended', 'pa.missed', 'audio.fault', 'audio.handsFree'] as const;
  readonly handles = ['pa.play', 'pa.stop', 'pa.page', 'hub.clock', 'hub.link', 'call.state'] as const;
  engine?: AudioEngine;
  private failure?: string;
  private microphone?: HandsFreeInput;

  async start(ctx: KioskContext): Promise<void> {
    const { bus, log } = ctx;
    const config = ctx.config();
    bus.on('audio.fault', (e) => (this.failure = e.active ? e.reason : undefined));
    this.engine = new AudioEngine({ config, configDir: ctx.configDir, dataDir: ctx.store.dir, bus, log });
    ctx.services.audioOut = this.engine.mixer;
    // The hub's page gateway sends pages by unicast from the first packet to a kiosk that says it takes no multicast.
    // Read at each hello: a live config change may have replaced the pager (src/audio/reconfigure.ts).
    const engine = this.engine;
    ctx.services.hubCapabilities = () => [...(engine.pager.unicastPort ? [`pa-unicast:${engine.pager.unicastPort}`] : []), ...(ctx.config().pa.hubPages?.multicast === false ? ['pa-no-multicast'] : [])];
    // The microphone behind the hands-free path (echo cancelling against this mixer's output, src/dsp).
    // A broken microphone setting costs the microphone (the intercom sends silence), not the speaker.
    try {
      const mic = createMicrophone({
        config,
        speaker: this.engine.mixer,
        rate: MIC_RATE,
        onError: (reason) => bus.emit('audio.fault', { active: true, reason }),
        onStatus: (status) => {
          log[status.problem ? 'error' : 'info']({ handsFree: status }, 'hands-free audio');
          bus.emit('audio.handsFree', status);
        },
      });
      ctx.services.microphone = mic;
      ctx.services.rawMicrophone = mic.raw;
      // A missing echo canceller is a fault from start-up on, not a surprise in the first call.
      setImmediate(() => mic.check());
    } catch (err) {
      bus.emit('audio.fault', { active: true, reason: `microphone: ${(err as Error).message}` });
    }
    const mic = (this.microphone = ctx.services.microphone as HandsFreeInput | undefined);
    // Ambient noise for adaptive PA volume, measured while idle: it holds a lease on the raw microphone all the
    // time (a start failure raises the audio fault through the microphone's onError above). Without adaptive
    // volume nothing leases the microphone while idle: a call leases the hands-free chain for its length.
    if (mic) this.engine.microphoneUsers = () => ({ handsFree: mic.users(), raw: mic.raw.users() });
    if (mic && config.pa.volume?.adaptive) void this.engine.attachMicrophone(mic.raw);
    const started = this.engine.start().catch((err: Error) => bus.emit('audio.fault', { active: true, reason: err.message }));
    // The paging sockets are bound in a moment (the device probe goes on in the background): the hub
    // link's hello, which comes after, can then say where this kiosk takes unicast pages (a hub that
    // learns it only from a missed page sends the rest by unicast, without the chime). Binding takes
    // milliseconds; the bound only guards against a hang (a loaded board may need more than 1 s).
    await Promise.race([started, new Promise((r) => setTimeout(r, 5000).unref())]);
    addPaRoutes(ctx.local, bus, this.engine);
  }

  async reconfigure({ prev, next }: ConfigChange<KioskConfig, ConfigSection>) {
    if (!this.engine) return 'restart' as const;
    return reconfigureAudio(this.engine, prev, next, this.microphone?.raw);
  }

  async stop(): Promise<void> {
    this.engine?.stop();
  }

  /** A live page or an emergency message playing must not be cut off (a restart or a reboot from the hub waits). */
  busy(): string | undefined {
    const s = this.engine?.mixer.active().find((x) => x.channel === 'page' || x.channel === 'emergency');
    return s ? `${s.channel === 'page' ? 'page' : 'emergency message'} ${s.id} playing` : undefined;
  }

  health() {
    return healthOf(!!this.engine, this.failure);
  }
}
