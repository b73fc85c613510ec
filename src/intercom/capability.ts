// The intercom as a kiosk capability: SIP user agent, transports, RTP media,
// registration and the call policy. It writes received audio to the shared
// mixer and sends the shared microphone; without them it still signals.
import type { KioskCapability, KioskContext } from '../core/context.js';
import { healthOf } from '../core/capability.js';
import type { Intercom } from './intercom.js';
import { watchRegistration } from './registration-fault.js';
import type { ConfigChange, Reconfigured } from '../core/capability.js';
import type { ConfigSection } from '../core/context.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import { needsNewUserAgent } from './reconfigure.js';
import { watchTlsExpiry } from './tls-expiry.js';
import { ServerCertificates } from './tls-server-certs.js';

/** how long the intercom's start waits at most for the call set-up warm-up (it takes tens of milliseconds) */
const WARM_UP_WAIT_MS = 500;

export class IntercomCapability implements KioskCapability {
  readonly name = 'intercom';
  readonly fault = 'sip-registration' as const;
  /** name: the display name; zone, location, site: the call's headers (read per call) */
  readonly config = ['sip', 'name', 'zone', 'location', 'site'] as const;
  readonly raises = ['call.state', 'call.media', 'call.dtmf', 'call.refused', 'call.page', 'pa.started', 'pa.ended', 'intercom.ready', 'sip.registration', 'sip.dropped', 'sip.tls', 'relay.pulse'] as const;
  readonly handles = ['call.requested', 'call.cancel', 'call.upgrade', 'call.answer'] as const;
  intercom?: Intercom;
  private failure?: string;
  private registered = new Map<string, boolean>();
  private unwatch?: () => void;
  private unwatchTls?: () => void;
  /** the SIP servers' certificates seen at this user agent's TLS connections, for the same warning */
  private readonly serverCerts = new ServerCertificates();
  private ctx?: KioskContext;
  /** a new user agent waiting for the call in progress to end */
  private pending?: Promise<void>;

  async start(ctx: KioskContext): Promise<void> {
    this.ctx = ctx;
    ctx.bus.on('sip.registration', (e) => this.registered.set(e.registrar, e.registered));
    // Registration lost (or never made) for longer than a short grace: the sip-registration fault. Watched before
    // the user agent starts: the first registration can complete while build() still waits for the warm-up, and a
    // watch started after it would wait for a registration that already happened and raise the fault after 10 s.
    this.unwatch = watchRegistration({ bus: ctx.bus, faults: ctx.faults, registrars: () => ctx.config().sip.account.registrars.length });
    // A certificate that lapses takes the kiosk off its SIP server on the day: a month's warning (tls-expiry.ts).
    this.unwatchTls = watchTlsExpiry({ faults: ctx.faults, config: ctx.config, configDir: ctx.configDir, servers: this.serverCerts });
    try {
      this.intercom = await this.build();
    } catch (err) {
      this.unwatch();
      this.unwatch = undefined;
      this.failure = `intercom: ${(err as Error).message}`;
      throw new Error(this.failure);
    }
  }

  private async build(): Promise<Intercom> {
    const ctx = this.ctx!;
    const { Intercom } = await import('./intercom.js');
    let input = ctx.services.microphone;
    if (!input) {
      // No microphone: the call still connects and the desk hears silence.
      // Leased like the microphone: it runs only while a call holds it.
      const { createInput } = await import('../audio/input/index.js');
      const { SharedInput } = await import('../audio/shared-input.js');
      input = new SharedInput(createInput({ source: 'silence', device: 'default' }, 8000));
    }
    const intercom = new Intercom({ bus: ctx.bus, log: ctx.log, config: ctx.config, input, output: ctx.services.audioOut, alarm: () => ctx.services.alarm, setup: ctx.services.setup, configDir: ctx.configDir, onTlsServer: (peer, cert) => this.serverCerts.record(peer, cert) });
    await intercom.start();
    // The alarm controller places its calls through this one (read on each use) and retries a waiting call now.
    ctx.services.calls = intercom;
    ctx.bus.emit('intercom.ready', { port: intercom.localPort });
    // Calls can be placed from here on; the kiosk reports "ready" once the call path is warm too (bounded), so a
    // press right after "ready" does not share the CPU with the warm-up's in-process call and run cold code.
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([intercom.warmedUp, new Promise<void>((resolve) => (bound = setTimeout(resolve, WARM_UP_WAIT_MS)))]);
    clearTimeout(bound);
    return intercom;
  }

  /** Why the intercom must not be interrupted now. */
  busy(): string | undefined {
    const call = this.intercom?.activeCall();
    return call ? `call ${call.id} in progress` : undefined;
  }

  async reconfigure({ prev, next }: ConfigChange<KioskConfig, ConfigSection>): Promise<Reconfigured> {
    // Not running: only a fresh start can try the new settings.
    if (!this.intercom) return 'restart';
    if (!needsNewUserAgent(prev, next)) return 'applied'; // read per call from the live config
    const busy = this.busy();
    if (!busy) {
      await this.rebuild();
      return 'applied';
    }
    this.pending ??= this.whenIdle().then(() => {
      this.pending = undefined;
      return this.rebuild();
    });
    return { deferred: busy, applied: this.pending };
  }

  /** A new user agent on the current config (it registers anew); the old one stops first, freeing its port. */
  private async rebuild(): Promise<void> {
    const ctx = this.ctx!;
    ctx.log.info('new SIP settings: restarting the user agent');
    if (ctx.services.calls === this.intercom) ctx.services.calls = undefined; // no calls through a stopping user agent
    await this.intercom?.stop();
    this.registered.clear();
    this.intercom = undefined;
    this.unwatchTls?.();
    this.serverCerts.clear(); // the new user agent's connections record the servers it uses (none when it left TLS)
    this.unwatchTls = watchTlsExpiry({ faults: ctx.faults, config: ctx.config, configDir: ctx.configDir, servers: this.serverCerts }); // the files may be new
    try {
      this.intercom = await this.build();
      this.failure = undefined;
    } catch (err) {
      this.failure = `intercom: ${(err as Error).message}`;
      throw err;
    }
  }

  private whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setInterval(() => {
        if (this.busy()) return;
        clearInterval(timer);
        resolve();
      }, 250);
      timer.unref();
    });
  }

  async stop(): Promise<void> {
    this.unwatch?.();
    this.unwatchTls?.();
    await this.intercom?.stop();
  }

  health() {
    // With registrars configured, running means registered with one of them (now, not once).
    const registrars = this.ctx?.config().sip.account.registrars ?? [];
    const unregistered = registrars.length > 0 && !registrars.some((r) => this.registered.get(r.uri)) ? 'not registered with any registrar' : undefined;
    return healthOf(!!this.intercom, this.failure ?? unregistered);
  }
}
