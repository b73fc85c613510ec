// The intercom as a kiosk capability: SIP user agent, transports, RTP media,
// registration and the call policy. It writes received audio to the shared
// mixer and sends the shared microphone; without them it still signals.
import type { KioskCapability, KioskContext } from '../core/context.js';
import { healthOf } from '../core/capability.js';
import type { Intercom } from './intercom.js';
import { watchRegistration } from './registration-fault.js';

export class IntercomCapability implements KioskCapability {
  readonly name = 'intercom';
  readonly fault = 'sip-registration' as const;
  readonly config = ['sip'] as const;
  readonly raises = ['call.state', 'call.media', 'call.dtmf', 'call.refused', 'intercom.ready', 'sip.registration', 'relay.pulse'] as const;
  readonly handles = ['call.requested', 'call.cancel', 'call.upgrade', 'call.answer'] as const;
  intercom?: Intercom;
  private failure?: string;
  private registered = new Map<string, boolean>();
  private unwatch?: () => void;

  async start(ctx: KioskContext): Promise<void> {
    const { bus, log } = ctx;
    bus.on('sip.registration', (e) => this.registered.set(e.registrar, e.registered));
    try {
      const { Intercom } = await import('./intercom.js');
      let input = ctx.services.microphone;
      if (!input) {
        // No microphone: the call still connects and the desk hears silence.
        const { createInput } = await import('../audio/input/index.js');
        input = createInput({ source: 'silence', device: 'default' }, 8000);
      }
      this.intercom = new Intercom({ bus, log, config: ctx.config, input, output: ctx.services.audioOut, alarm: () => ctx.services.alarm });
      await this.intercom.start();
      // Registration lost (or never made) for longer than a short grace: the sip-registration fault.
      this.unwatch = watchRegistration({ bus, faults: ctx.faults, registrars: () => ctx.config().sip.account.registrars.length });
      ctx.services.calls = this.intercom;
      bus.emit('intercom.ready', { port: this.intercom.localPort });
    } catch (err) {
      this.failure = `intercom: ${(err as Error).message}`;
      throw new Error(this.failure);
    }
  }

  async stop(): Promise<void> {
    this.unwatch?.();
    await this.intercom?.stop();
  }

  health() {
    const regs = [...this.registered.values()];
    const unregistered = regs.length > 0 && !regs.some(Boolean) ? 'not registered with any registrar' : undefined;
    return healthOf(!!this.intercom, this.failure ?? unregistered);
  }
}
