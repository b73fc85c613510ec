// Registration to the primary registrar and its backups. Serial mode uses one
// registrar at a time, primary first, failing over when it rejects or stops
// answering; parallel mode registers with all of them. A registered registrar
// is probed with OPTIONS; silence marks it lost, and retries run every few
// seconds so the kiosk is back within 5 s of the network returning.
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { Registerer, RegistererState, UserAgent } from 'sip.js';
import type { Bus } from '../core/bus.js';
import type { Logger } from '../core/log.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import { parseSipUriAddress, type Address } from './transports/routing.js';

const ANSWER_TIMEOUT_MS = 2000; // UDP retransmits the OPTIONS at 0.5 and 1.5 s (Timer E) within it
const RETRY_MS = 2000;
const PROBE_MS = 3000; // with the 2 s answer timeout and the fault grace: a lost registrar is a fault within 6.5 s, leaving time to reach the hub

interface Slot {
  uri: string;
  addr: Address;
  /** addr.host resolved, for matching where incoming requests come from */
  ip?: string;
  registerer?: Registerer;
  registered: boolean;
  timer?: NodeJS.Timeout;
}

export class Registration {
  private readonly slots: Slot[];
  private current = 0;
  private stopped = false;
  private probeTimer?: NodeJS.Timeout;

  constructor(
    private readonly ua: UserAgent,
    private readonly account: KioskConfig['sip']['account'],
    private readonly bus: Bus,
    private readonly log: Logger,
    /** tells the transport where calls go (the registrar we are registered with) */
    private readonly setOutbound: (a: Address | undefined) => void,
  ) {
    this.slots = account.registrars.map((r) => {
      const addr = parseSipUriAddress(r.uri, r.transport === 'tls' ? 5061 : 5060);
      if (!addr) throw new Error(`registrar URI ${r.uri} has no host`);
      return { uri: r.uri, addr, registered: false };
    });
  }

  /** The registrars the kiosk is registered with now, by address (for trust by arrival). */
  registeredAddresses(): Address[] {
    return this.slots.filter((s) => s.registered).map((s) => ({ host: s.ip ?? s.addr.host, port: s.addr.port }));
  }

  /** The registrar calls should go through now, if any. */
  /** The URIs of the registrars the kiosk is registered with now. */
  registeredUris(): string[] {
    return this.slots.filter((s) => s.registered).map((s) => s.uri);
  }

  active(): Address | undefined {
    return this.slots.find((s) => s.registered)?.addr;
  }

  start(): void {
    if (this.slots.length === 0) return;
    if (this.account.registrationMode === 'parallel') this.slots.forEach((s) => this.attempt(s));
    else this.attempt(this.slots[0]!);
    this.probeTimer = setInterval(() => void this.probe(), PROBE_MS);
  }

  private attempt(slot: Slot): void {
    if (this.stopped) return;
    if (!slot.ip && isIP(slot.addr.host)) slot.ip = slot.addr.host;
    if (!slot.ip) void dns.lookup(slot.addr.host, { family: 4 }).then((r) => (slot.ip = r.address), () => {});
    clearTimeout(slot.timer);
    slot.registerer?.dispose().catch(() => {});
    const registerer = new Registerer(this.ua, { registrar: UserAgent.makeURI(slot.uri)!, expires: this.account.expiresS });
    slot.registerer = registerer;
    registerer.stateChange.addListener((state) => {
      if (registerer !== slot.registerer) return;
      const was = slot.registered;
      slot.registered = state === RegistererState.Registered;
      if (slot.registered !== was) this.changed(slot, slot.registered ? undefined : state);
      if (!slot.registered && was) this.lost(slot);
    });
    registerer
      .register({
        requestDelegate: {
          onReject: (res) => {
            this.log.warn({ registrar: slot.uri, code: res.message.statusCode }, 'registration rejected');
            this.lost(slot);
          },
        },
      })
      .catch((err: Error) => {
        this.log.warn({ registrar: slot.uri, err: err.message }, 'registration could not be sent');
        this.lost(slot);
      });
    slot.timer = setTimeout(() => {
      if (!slot.registered) {
        this.log.warn({ registrar: slot.uri }, 'registrar does not answer');
        this.lost(slot);
      }
    }, ANSWER_TIMEOUT_MS);
  }

  private changed(slot: Slot, reason?: string): void {
    this.bus.emit('sip.registration', { registrar: slot.uri, registered: slot.registered, reason });
    this.setOutbound(this.active());
    if (slot.registered) {
      clearTimeout(slot.timer);
      this.log.info({ registrar: slot.uri }, 'registered');
      // Serial mode: back on the primary, let the backup go.
      if (this.account.registrationMode === 'serial') {
        for (const other of this.slots) if (other !== slot && other.registered) this.drop(other);
      }
    }
  }

  private drop(slot: Slot): void {
    slot.registered = false;
    clearTimeout(slot.timer);
    const r = slot.registerer;
    slot.registerer = undefined;
    r?.unregister().catch(() => {});
  }

  private lost(slot: Slot): void {
    if (this.stopped) return;
    clearTimeout(slot.timer);
    if (slot.registered) {
      slot.registered = false;
      this.changed(slot, 'lost');
    }
    if (this.account.registrationMode === 'parallel') {
      slot.timer = setTimeout(() => this.attempt(slot), RETRY_MS);
      return;
    }
    // Serial: move on to the next registrar now; come back round to the primary.
    const i = this.slots.indexOf(slot);
    if (i !== this.current) return;
    this.current = (i + 1) % this.slots.length;
    const next = this.slots[this.current]!;
    next.timer = setTimeout(() => this.attempt(next), this.current === 0 ? RETRY_MS : 0);
  }

  /** OPTIONS to each registered registrar; no answer means it is gone. In serial mode, also try the primary again. */
  private async probe(): Promise<void> {
    for (const slot of this.slots) {
      if (!slot.registered) continue;
      const ok = await this.options(slot.uri);
      if (!ok && slot.registered) {
        this.log.warn({ registrar: slot.uri }, 'registrar stopped answering OPTIONS');
        this.lost(slot);
      }
    }
    if (this.account.registrationMode === 'serial' && this.current !== 0 && this.active() && (await this.options(this.slots[0]!.uri))) {
      this.current = 0;
      this.attempt(this.slots[0]!);
    }
  }

  options(uri: string): Promise<boolean> {
    return new Promise((resolve) => {
      const core = this.ua.userAgentCore;
      const target = UserAgent.makeURI(uri)!;
      const msg = core.makeOutgoingRequestMessage('OPTIONS', target, this.ua.configuration.uri, target, {});
      const t = setTimeout(() => resolve(false), ANSWER_TIMEOUT_MS);
      core.request(msg, {
        onAccept: () => (clearTimeout(t), resolve(true)),
        onReject: () => (clearTimeout(t), resolve(true)), // any answer means it is alive
      });
    });
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.probeTimer);
    for (const s of this.slots) {
      clearTimeout(s.timer);
      if (s.registered) s.registerer?.unregister().catch(() => {});
    }
  }
}
