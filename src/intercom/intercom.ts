// The intercom capability: one sip.js UserAgent in Node with our transports
// (UDP, TCP, TLS) or sip.js's WebSocket transport over `ws`, our RTP media,
// registration with failover, the call policy, incoming calls with
// auto-answer, desk DTMF for the door relay, and a per-call time limit.
import { Invitation, SessionState, UserAgent, type Session, type Transport, type UserAgentOptions } from 'sip.js';
import WebSocket from 'ws';
import type { Bus } from '../core/bus.js';
import type { Logger } from '../core/log.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import type { AudioInput, AudioOutput } from '../audio/types.js';
import { createMediaFactory, RtpSessionDescriptionHandler, type MediaEvent } from './media/index.js';
import { UdpTransport } from './transports/udp.js';
import { StreamTransport } from './transports/stream.js';
import type { BaseTransport, TransportOptions } from './transports/base.js';
import { parseSipUriAddress, type Address } from './transports/routing.js';
import { Registration } from './registration.js';
import { OutgoingCall, type CallContext } from './call-policy.js';
import { asksForAutoAnswer, sourceAllowed } from './auto-answer.js';
import type { CallKind } from './events.js';

export interface IntercomOptions {
  bus: Bus;
  log: Logger;
  config: () => KioskConfig;
  input: AudioInput;
  output?: AudioOutput;
  /** overrides sip.localPort (tests use 0) */
  port?: number;
}

interface ActiveCall {
  id: string;
  kind: CallKind;
  session?: Session;
  outgoing?: OutgoingCall;
  digits: string;
  digitsAt: number;
  timers: NodeJS.Timeout[];
}

/** how long stop() waits for sip.js to unregister and end dialogs gracefully */
const STOP_GRACE_MS = 1500;

export class Intercom {
  ua!: UserAgent;
  transport?: BaseTransport;
  registration?: Registration;
  private outbound?: Address;
  private call?: ActiveCall;
  private readonly ringing = new Map<string, Invitation>();
  /** which call each SIP session belongs to (media events arrive by session) */
  private readonly sessionCalls = new Map<string, string>();
  /** media timing of the current call, for the benchmark */
  readonly marks = new Map<string, number>();
  /** bus subscriptions, dropped at stop (a new config builds a new Intercom) */
  private readonly offs: (() => void)[] = [];

  constructor(private readonly opts: IntercomOptions) {}

  get localPort(): number {
    return this.transport?.localPort ?? 0;
  }

  async start(): Promise<void> {
    const { bus, log } = this.opts;
    const c = this.opts.config();
    const sip = c.sip;
    const account = sip.account;
    const kind = account.registrars[0]?.transport ?? sip.transport;
    const host = sip.localHost;
    const base: UserAgentOptions = {
      uri: UserAgent.makeURI(`sip:${account.user}@${account.domain}`),
      authorizationUsername: account.authUser ?? account.user,
      authorizationPassword: account.password,
      displayName: account.displayName ?? c.name ?? c.id,
      userAgentString: 'helppoint/0.1',
      logBuiltinEnabled: false,
      logConnector: (level, category, _label, content) => {
        if (level === 'error' || level === 'warn') log.debug({ sip: category }, content);
      },
      sessionDescriptionHandlerFactory: createMediaFactory({
        localHost: host,
        rtpPortRange: sip.rtpPortRange,
        codecs: sip.codecs,
        input: this.opts.input,
        output: this.opts.output,
        onEvent: (sessionId, e) => this.media(sessionId, e),
        warn: (m) => log.warn(m),
      }),
      delegate: { onInvite: (inv) => this.incoming(inv) },
      noAnswerTimeout: 120,
    };
    let options: UserAgentOptions;
    if (kind === 'ws' || kind === 'wss') {
      // sip.js's own WebSocket transport; in Node it needs a WebSocket global.
      (globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
      const server = account.registrars[0]?.wsUrl;
      if (!server) throw new Error('sip.account.registrars[0].wsUrl is required for a WebSocket transport');
      options = { ...base, transportOptions: { server, traceSip: false } };
    } else {
      const topts: TransportOptions & { secure?: boolean } = {
        host,
        port: this.opts.port ?? sip.localPort ?? 5060,
        secure: kind === 'tls',
        inviteMaxIntervalMs: sip.inviteRetransmitMaxMs,
        onGarbage: (reason, from) => log.debug({ from: `${from.host}:${from.port}`, reason }, 'dropped non-SIP traffic'),
      };
      // Both classes take (logger, options); typed as one so the subclass below type-checks.
      const Ctor = (kind === 'udp' ? UdpTransport : StreamTransport) as typeof UdpTransport;
      const self = this;
      // sip.js constructs the transport itself; this subclass hands us the instance.
      class Bound extends Ctor {
        constructor(l: ConstructorParameters<typeof UdpTransport>[0]) {
          super(l, topts);
          self.transport = this;
        }
        override async send(message: string): Promise<void> {
          // Calls go through the registrar we are registered with; REGISTER and OPTIONS go to their own URI.
          (topts as { outbound?: Address }).outbound = /^(REGISTER|OPTIONS) /.test(message) ? undefined : self.outbound;
          return super.send(message);
        }
      }
      options = {
        ...base,
        transportConstructor: Bound as unknown as new () => Transport,
        viaHost: host,
        contactName: account.user,
        contactParams: { transport: kind },
        forceRport: true,
        hackViaTcp: false,
      };
    }
    this.ua = new UserAgent(options);
    // UDP retransmissions stop once sip.js has given a client transaction up.
    if (this.transport instanceof UdpTransport) {
      const core = this.ua.userAgentCore;
      this.transport.clientAlive = (branch, method) => core.userAgentClients.has(branch + method);
    }
    await this.ua.start();
    // sip.js builds the Contact without a port; ours is not 5060.
    if (this.transport) this.ua.contact.uri.port = this.transport.localPort;
    log.info({ transport: kind, port: this.localPort, registrars: account.registrars.map((r) => r.uri) }, 'sip ready');

    this.registration = new Registration(this.ua, account, bus, log, (a) => (this.outbound = a));
    this.registration.start();

    this.offs.push(
      bus.on('call.requested', (e) => void this.place(e.kind, e.category, e.source)),
      bus.on('call.cancel', (e) => this.cancel(e.source)),
      bus.on('call.upgrade', (e) => this.upgrade(e.callId)),
      bus.on('call.answer', (e) => this.answer(e.callId)),
    );
  }

  /** Places a call unless one is active; returns its id. */
  async place(kind: CallKind, category: string | undefined, source: string): Promise<string | undefined> {
    if (this.call) {
      this.opts.log.info({ kind, source }, 'call requested during a call; ignored');
      return undefined;
    }
    for (const [id, inv] of this.ringing) {
      this.ringing.delete(id);
      void inv.reject({ statusCode: 486 }).catch(() => {});
    }
    const ctx: CallContext = {
      ua: this.ua,
      bus: this.opts.bus,
      log: this.opts.log,
      config: this.opts.config,
      attach: (call, session) => this.attach(call.id, session),
    };
    const call = new OutgoingCall(ctx, kind, category, source);
    const active: ActiveCall = { id: call.id, kind, outgoing: call, digits: '', digitsAt: 0, timers: [] };
    this.call = active;
    this.opts.log.info({ callId: call.id, kind, category, source, ref: call.ref }, 'placing call');
    void call.run().finally(() => {
      active.timers.forEach(clearTimeout);
      if (this.call === active) this.call = undefined;
    });
    return call.id;
  }

  private attach(callId: string, session: Session): void {
    if (this.call?.id === callId) this.call.session = session;
    this.sessionCalls.set(session.id, callId);
    if (this.sessionCalls.size > 200) this.sessionCalls.delete(this.sessionCalls.keys().next().value!);
    session.delegate = {
      onInfo: (info) => {
        const body = info.request.body ?? '';
        const m = /Signal\s*=\s*([0-9*#A-D])/i.exec(body);
        void info.accept().catch(() => {});
        if (m) this.digit(session.id, m[1]!.toUpperCase());
      },
    };
    session.stateChange.addListener((s) => {
      if (s === SessionState.Established) this.connected(callId, session);
    });
  }

  private connected(callId: string, session: Session): void {
    const call = this.call;
    if (!call || call.id !== callId) return;
    const limit = this.opts.config().sip.callTimeLimitS;
    if (limit > 0) {
      const warnAt = Math.max(0, limit - 10) * 1000;
      call.timers.push(setTimeout(() => this.warningTone(), warnAt));
      call.timers.push(
        setTimeout(() => {
          this.opts.log.info({ callId }, 'call time limit reached');
          void session.bye().catch(() => {});
        }, limit * 1000),
      );
    }
  }

  /** Two short beeps into the call channel: the call ends in 10 s. */
  private warningTone(): void {
    const out = this.opts.output;
    if (!out) return;
    const rate = 8000;
    const ch = out.openChannel({ channel: 'call', rate, id: 'time-limit-warning' });
    const beep = (ms: number, f: number) => Int16Array.from({ length: (rate * ms) / 1000 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * f * i) / rate)));
    ch.write(beep(200, 1000));
    ch.write(new Int16Array(rate / 10));
    ch.write(beep(200, 1000));
    ch.end();
  }

  private media(sessionId: string, e: MediaEvent): void {
    if (e.type === 'dtmf') return this.digit(sessionId, e.digit);
    if (e.type === 'first-rtp-in' || e.type === 'first-rtp-out') this.marks.set(`${sessionId}:${e.type}`, performance.now());
    if (e.type === 'stats') {
      this.opts.log.info({ session: sessionId, rtp: e.stats }, 'call media statistics');
      const callId = this.sessionCalls.get(sessionId) ?? sessionId;
      const { remote: _remote, ...stats } = e.stats;
      this.opts.bus.emit('call.media', { callId, ...stats });
    }
  }

  private digit(sessionId: string, digit: string): void {
    const call = this.call;
    if (!call || call.session?.id !== sessionId) return;
    const now = Date.now();
    if (now - call.digitsAt > 3000) call.digits = '';
    call.digits = (call.digits + digit).slice(-8);
    call.digitsAt = now;
    this.opts.bus.emit('call.dtmf', { callId: call.id, digits: call.digits });
    const code = this.opts.config().sip.doorDtmf;
    if (call.digits.endsWith(code)) {
      call.digits = '';
      this.opts.log.info({ callId: call.id }, 'door code from the desk');
      this.opts.bus.emit('relay.pulse', { output: 'doorRelay', source: 'dtmf' });
    }
  }

  private incoming(inv: Invitation): void {
    const { log, bus } = this.opts;
    const from = `${inv.request.from.uri.user ?? ''}@${inv.request.from.uri.host}`;
    if (this.call || this.ringing.size > 0) {
      log.info({ from }, 'incoming call while busy: 486');
      void inv.reject({ statusCode: 486 }).catch(() => {});
      return;
    }
    const allowed = sourceAllowed(inv.request, this.opts.config().sip.autoAnswerFrom);
    const id = inv.id;
    const active: ActiveCall = { id, kind: 'information', session: inv, digits: '', digitsAt: 0, timers: [] };
    this.attach(id, inv);
    inv.stateChange.addListener((s) => {
      if (s === SessionState.Established) {
        this.call = active;
        bus.emit('call.state', { callId: id, kind: 'information', state: 'connected', target: from, incoming: true });
      }
      if (s === SessionState.Terminated) {
        const wasRinging = this.ringing.delete(id);
        active.timers.forEach(clearTimeout);
        if (this.call === active) this.call = undefined;
        bus.emit('call.state', { callId: id, kind: 'information', state: wasRinging ? 'failed' : 'ended', target: from, incoming: true, reason: wasRinging ? 'not answered' : undefined });
      }
    });
    if (allowed && asksForAutoAnswer(inv.request)) {
      this.call = active;
      log.info({ from }, 'auto-answering a call from the desk');
      void inv.accept().catch((err: Error) => log.warn({ err: err.message }, 'auto-answer failed'));
      return;
    }
    log.info({ from, allowed }, 'incoming call rings on the screen');
    // A ringing call does not occupy the kiosk: an emergency press still calls out (and ends the ringing).
    this.ringing.set(id, inv);
    void inv.progress().catch(() => {});
    bus.emit('call.state', { callId: id, kind: 'information', state: 'ringing', target: from, incoming: true });
  }

  /** Answers a ringing incoming call (from the screen). */
  answer(callId: string): void {
    const inv = this.ringing.get(callId);
    if (!inv) return;
    this.ringing.delete(callId);
    if (this.call) return void inv.reject({ statusCode: 486 }).catch(() => {});
    void inv.accept().catch(() => {});
  }

  private cancel(source: string): void {
    const call = this.call;
    if (!call) return;
    if (call.outgoing) {
      if (!call.outgoing.cancel()) this.opts.log.info({ callId: call.id, source }, 'an emergency call cannot be cancelled by the caller');
    } else if (call.session?.state === SessionState.Established) void call.session.bye().catch(() => {});
    else if (call.session instanceof Invitation) void call.session.reject({ statusCode: 603 }).catch(() => {});
  }

  /** An information call becomes an emergency call: end it and call the emergency desks at once. */
  private upgrade(callId: string): void {
    const call = this.call;
    if (!call || call.id !== callId || call.kind !== 'information') return;
    this.opts.log.info({ callId }, 'upgrading to an emergency call');
    call.outgoing?.cancel(true);
    const wait = call.outgoing?.finished ?? Promise.resolve();
    void wait.then(() => this.place('emergency', 'upgrade', 'upgrade'));
  }

  /** RTP statistics of the current call. */
  stats() {
    const sdh = this.call?.session?.sessionDescriptionHandler;
    return sdh instanceof RtpSessionDescriptionHandler ? sdh.stats() : undefined;
  }

  activeCall(): { id: string; kind: CallKind; state?: string } | undefined {
    return this.call ? { id: this.call.id, kind: this.call.kind, state: this.call.outgoing?.state } : undefined;
  }

  async stop(): Promise<void> {
    for (const off of this.offs.splice(0)) off();
    this.registration?.stop();
    try {
      // sip.js lets a REGISTER in flight finish first: up to 32 s when the registrar is silent. Not that long.
      await Promise.race([this.ua?.stop(), new Promise((r) => setTimeout(r, STOP_GRACE_MS).unref())]);
    } catch {
      /* already stopped */
    }
    // The port is free when this returns, whatever sip.js is still waiting for (a new user agent may bind it).
    await this.transport?.disconnect().catch(() => undefined);
  }
}

export function addressOf(uri: string): Address | undefined {
  return parseSipUriAddress(uri, 5060);
}
