// The intercom capability: one sip.js UserAgent in Node with our transports
// (UDP, TCP, TLS) or sip.js's WebSocket transport over `ws`, our RTP media,
// registration with failover, the call policy, incoming calls with
// auto-answer, SIP paging into the page channel (paging.ts), desk DTMF for
// the door relay, and a per-call time limit. Auto-answer, paging and the door
// code need a trusted call (trust.ts): trusted by how it arrived, never by its
// From header.
import { useFastSipGrammar } from './sip-grammar.js';
import { Invitation, Inviter, SessionState, UserAgent, type Session, type UserAgentOptions } from 'sip.js';
import WebSocket from 'ws';
import type { Bus } from '../core/bus.js';
import type { Logger } from '../core/log.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import type { AudioInput, AudioOutput } from '../audio/types.js';
import { codecList, createMediaFactory, preferredRtpSocketKind, RtpSessionDescriptionHandler, RtpSpare, type MediaEvent, type SessionMedia } from './media/index.js';
import { loopbackCall, warmCallPath } from './warm-up.js';
import { GcRewarm } from './rewarm.js';
import { UdpTransport } from './transports/udp.js';
import { boundTransport } from './transports/bound.js';
import type { BaseTransport, TransportOptions } from './transports/base.js';
import { parseSipUriAddress, type Address, type Arrival } from './transports/routing.js';
import { Registration } from './registration.js';
import { OutgoingCall, type CallContext } from './call-policy.js';
import { asksForAutoAnswer, sourceAllowed } from './auto-answer.js';
import { describeArrival, isTrustedCall, OWN_CALL, TrustPolicy, type Trust } from './trust.js';
import type { CallKind } from './events.js';
import { placeAlarmCall, type AlarmCallHandle, type AlarmCallListener, type AlarmCallRequest, type AlarmHooks, type CallService } from './alarm-call.js';
import { trustedForAlarmCallback } from './alarm-trust.js';
import { RequestAdmission } from './request-admission.js';
import { placeTestCall, TEST_INFO_TYPE, type TestCallHandle, type TestCallListener, type TestCallRequest } from './test-call.js';
import type { SetupWindow } from '../core/setup-window.js';
import { IdleScavenger } from './idle-scavenge.js';
import { isPageRequest, pageVerdict, takePagingUri, type PagingConfig } from './paging.js';
import { sipPageOutput } from '../audio/sip-page-output.js';
import { readSipTls } from './tls-files.js';
import { tlsRefusals } from './tls-refusals.js';

export interface IntercomOptions {
  bus: Bus;
  log: Logger;
  config: () => KioskConfig;
  input: AudioInput;
  output?: AudioOutput;
  /** overrides sip.localPort (tests use 0) */
  port?: number;
  /** the alarm controller, once started: it owns every emergency call */
  alarm?: () => AlarmHooks | undefined;
  /** opened while an alarm call is set up (placed until its first RTP packet leaves or it ends) */
  setup?: SetupWindow;
  /** the config file's folder: sip.tls file paths are relative to it */
  configDir?: string;
  /** a SIP server dialled over TLS and accepted, with its certificate (DER) (tls-server-certs.ts) */
  onTlsServer?: (peer: Address, cert: Buffer) => void;
}

interface ActiveCall {
  id: string;
  kind: CallKind;
  incoming: boolean;
  /** how far the call is trusted (trust.ts): our own calls are, incoming ones by how they arrived */
  trust: Trust;
  /** hosts the call's signalling comes from: in-dialog requests (INFO) from elsewhere are refused unless trusted themselves */
  peerHosts: Set<string>;
  session?: Session;
  outgoing?: OutgoingCall;
  /** an alarm call: what happens to it goes to the alarm controller */
  alarm?: AlarmCallListener;
  /** ends an alarm call we placed */
  alarmHandle?: AlarmCallHandle;
  /** a supervision test call: what happens to it goes to supervision */
  test?: TestCallListener;
  testHandle?: TestCallHandle;
  /** a SIP page (paging.ts): receive-only, in the page channel; no DTMF, no door, ended by any alarm */
  page?: { from: string; via: string; startedAt?: number; endReason?: string; silence?: () => void };
  digits: string;
  digitsAt: number;
  timers: NodeJS.Timeout[];
}

/** how long stop() waits for sip.js to unregister and end dialogs gracefully */
const STOP_GRACE_MS = 1500;

export class Intercom implements CallService {
  ua!: UserAgent;
  transport?: BaseTransport;
  registration?: Registration;
  trustPolicy!: TrustPolicy;
  private outbound?: Address;
  private call?: ActiveCall;
  private readonly ringing = new Map<string, Invitation>();
  /** incoming requests dialled to the paging address (takePagingUri rewrote their Request-URI) */
  private readonly pageRequests = new WeakSet<object>();
  /** which call each SIP session belongs to (media events arrive by session) */
  private readonly sessionCalls = new Map<string, string>();
  /** media timing of the current call, for the benchmark */
  readonly marks = new Map<string, number>();
  /** bus subscriptions, dropped at stop (a new config builds a new Intercom) */
  private readonly offs: (() => void)[] = [];
  /** Settles once the call set-up path has been warmed up after start() (warm-up.ts), or the warm-up failed. */
  warmedUp: Promise<void> = Promise.resolve();
  /** sessions with their own media (test calls, SIP pages) */
  private readonly ownMedia = new WeakMap<Session, SessionMedia>();
  /** the next call's RTP socket, bound ahead (media/rtp-spare.ts) */
  rtpSpare?: RtpSpare;
  /** open set-up windows by alarm call id (src/core/setup-window.ts) */
  private readonly setupEnds = new Map<string, () => void>();
  /** the set-up path warmed again after each major GC, when idle (rewarm.ts) */
  rewarm?: GcRewarm;

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
    // The calls' RTP sockets are read on the media clock's tick when the addon has them (media/rtp-socket.ts).
    const rtpSocket = preferredRtpSocketKind();
    log.info({ rtpSocket }, rtpSocket === 'poll' ? 'RTP sockets read on the media clock' : 'RTP sockets on Node dgram (the addon has no UdpSocket)');
    this.rtpSpare = new RtpSpare(host, sip.rtpPortRange, (m) => log.warn(m), rtpSocket);
    // The young generation emptied between calls, off the set-up path (idle-scavenge.ts).
    // HELPPOINT_IDLE_SCAVENGE=off leaves it to V8 (the benchmark's A/B comparison).
    if (process.env.HELPPOINT_IDLE_SCAVENGE !== 'off') {
      const scavenger = new IdleScavenger({ busy: () => !!this.call || this.ringing.size > 0 || !!this.opts.setup?.active });
      scavenger.start();
      this.offs.push(
        bus.on('call.state', (e) => (e.state === 'ended' || e.state === 'failed') && scavenger.callEnded()),
        () => scavenger.stop(),
      );
    }
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
        silenceTimeoutMs: () => this.opts.config().sip.alarm.mediaTimeoutS * 1000,
        mediaFor: (session) => this.ownMedia.get(session),
        spare: this.rtpSpare,
        socketKind: rtpSocket,
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
      if (kind === 'tls') {
        topts.tls = readSipTls(sip.tls, this.opts.configDir ?? '.');
        topts.onTlsRefused = tlsRefusals(bus, log);
        topts.onTlsServer = this.opts.onTlsServer;
      }
      const transport = boundTransport(kind, topts, (t) => (this.transport = t), () => this.outbound);
      options = {
        ...base,
        transportConstructor: transport,
        viaHost: host,
        contactName: account.user,
        contactParams: { transport: kind },
        forceRport: true,
        hackViaTcp: false,
      };
    }
    // sip.js's parser with its rule table decoded once, not per header (sip-grammar.ts); loaded beside the start-up,
    // not in its way: messages before it is in place use sip.js's own (same results, slower)
    const grammar = useFastSipGrammar().then((why) => void (why && log.warn(why)));
    this.ua = new UserAgent(options);
    const core = this.ua.userAgentCore;
    // UDP retransmissions stop once sip.js has given a client transaction up.
    if (this.transport instanceof UdpTransport) this.transport.clientAlive = (branch, method) => core.userAgentClients.has(branch + method);
    // Requests to the paging address (sip.paging.user) are ours too; sip.js would answer them 404 (paging.ts).
    const fromTransport = core.receiveIncomingRequestFromTransport.bind(core);
    // Every request passes here, a desk's during an alarm too: whatever goes wrong in the paging check, it still reaches sip.js.
    core.receiveIncomingRequestFromTransport = (message) => {
      try {
        const sip = this.opts.config().sip;
        if (takePagingUri(message, sip.paging, sip.account.user)) this.pageRequests.add(message);
      } catch (err) {
        log.error({ err }, 'paging address check failed; the request goes on as it came');
      }
      fromTransport(message);
    };
    // A flood of INVITEs cannot make sip.js hold more than a few open (request-admission.ts).
    if (this.transport) {
      const admission = new RequestAdmission({
        open: () => core.userAgentServers.size,
        has: (branch) => core.userAgentServers.has(branch),
        trusted: (from) => this.trustPolicy?.ofArrival(from).trusted ?? false,
        report: (dropped, from) => {
          const e = { dropped, from: describeArrival(from), open: core.userAgentServers.size };
          log.warn(e, 'too many open incoming calls: INVITEs from untrusted sources dropped');
          bus.emit('sip.dropped', e); // recorded, so the hub sees the flood
        },
      });
      this.transport.admit = (text, from) => admission.admit(text, from);
    }
    await this.ua.start();
    // sip.js builds the Contact without a port; ours is not 5060.
    if (this.transport) this.ua.contact.uri.port = this.transport.localPort;
    log.info({ transport: kind, port: this.localPort, registrars: account.registrars.map((r) => r.uri) }, 'sip ready');

    this.registration = new Registration(this.ua, account, bus, log, (a) => (this.outbound = a));
    this.trustPolicy = new TrustPolicy(() => this.opts.config().sip, () => this.registration?.registeredAddresses() ?? [], (m) => log.warn(m));
    this.registration.start();
    // The call set-up path compiled before the first call needs it (warm-up.ts), once the fast grammar is in place.
    const t0 = performance.now();
    this.warmedUp = grammar
      .then(() => warmCallPath(this.ua, codecList(sip.codecs), { input: this.opts.input.rate, output: this.opts.output?.rate }))
      .then(
        ({ unparsed }) => log.info({ ms: Math.round(performance.now() - t0), ...(unparsed ? { unparsed } : {}) }, 'call set-up path warmed up'),
        (err: Error) => log.warn({ err: err.message }, 'call set-up path warm-up failed: the first call compiles it'),
      )
      // the first call's RTP socket, bound before "ready" (the kiosk waits for the warm-up)
      .then(() => this.rtpSpare?.fill());
    const codecs = codecList(sip.codecs);
    this.rewarm = new GcRewarm({
      run: () => loopbackCall(codecs),
      busy: () => !!this.call || this.ringing.size > 0 || !!this.opts.alarm?.()?.isOpen(),
      onDone: (r) => ('err' in r ? log.warn({ err: r.err.message }, 'call set-up path re-warm failed') : log.debug({ ms: Math.round(r.ms) }, 'call set-up path warmed again after a major GC')),
    });
    void this.warmedUp.then(() => this.rewarm?.start());

    this.offs.push(
      bus.on('call.requested', (e) => {
        // Emergencies belong to the alarm controller; without one (it could not start) the plain call policy still calls.
        if (e.kind === 'emergency' && this.opts.alarm?.()) return;
        void this.place(e.kind, e.category, e.source);
      }),
      bus.on('call.cancel', (e) => this.cancel(e.source)),
      bus.on('call.upgrade', (e) => {
        if (!this.opts.alarm?.()) this.upgrade(e.callId);
      }),
      bus.on('call.answer', (e) => this.answer(e.callId)),
    );
  }

  private refuse(kind: CallKind, source: string, reason: string): void {
    this.opts.log.info({ kind, source, reason }, 'call refused');
    this.opts.bus.emit('call.refused', { kind, source, reason });
  }

  /** Places a call unless one is active (an emergency without the alarm controller ends an information call first); returns its id. */
  async place(kind: CallKind, category: string | undefined, source: string): Promise<string | undefined> {
    if (kind === 'information' && this.opts.alarm?.()?.isOpen()) {
      this.refuse(kind, source, 'an alarm is open');
      return undefined;
    }
    if (this.call && kind === 'emergency' && this.call.kind === 'information') this.preempt('an emergency call');
    // A visitor's call ends a test call at once.
    if (this.call?.testHandle) this.preempt(`a ${kind} call`);
    if (this.call) {
      this.refuse(kind, source, this.call.page ? 'a SIP page is playing' : 'a call is already active');
      return undefined;
    }
    this.rejectRinging();
    const ctx: CallContext = {
      ua: this.ua,
      bus: this.opts.bus,
      log: this.opts.log,
      config: this.opts.config,
      attach: (call, session) => this.attach(call.id, session),
    };
    const call = new OutgoingCall(ctx, kind, category, source);
    const active: ActiveCall = { id: call.id, kind, incoming: false, trust: OWN_CALL, peerHosts: new Set(), outgoing: call, digits: '', digitsAt: 0, timers: [] };
    this.call = active;
    this.opts.log.info({ callId: call.id, kind, category, source, ref: call.ref }, 'placing call');
    void call.run().finally(() => {
      active.timers.forEach(clearTimeout);
      if (this.call === active) this.call = undefined;
    });
    return call.id;
  }

  private rejectRinging(): void {
    for (const [id, inv] of this.ringing) {
      this.ringing.delete(id);
      void inv.reject({ statusCode: 486 }).catch(() => {});
    }
  }

  /** Ends whatever call is active (and rings) to make room for an alarm call. */
  private preempt(why: string): void {
    this.rejectRinging();
    const call = this.call;
    if (!call) return;
    this.call = undefined;
    call.timers.forEach(clearTimeout);
    this.opts.log.info({ callId: call.id, kind: call.kind, ...(call.page ? { page: true } : {}) }, `ending the call for ${why}`);
    if (call.page) {
      // What the page has queued is dropped, not played out over the alarm (as much work as an information call's end).
      call.page.silence?.();
      this.endPage(call, `ended for ${why}`);
    } else if (call.alarmHandle) call.alarmHandle.end(`ended for ${why}`); // does nothing if the controller has ended it already
    else if (call.testHandle) call.testHandle.end(`ended for ${why}`, true);
    else if (call.outgoing) {
      call.outgoing.endReason = `ended for ${why}`;
      call.outgoing.cancel(true);
    } else if (call.session?.state === SessionState.Established) void call.session.bye().catch(() => {});
    else if (call.session instanceof Invitation) void call.session.reject({ statusCode: 486 }).catch(() => {});
  }

  /** The alarm controller's one way to call: one INVITE to one desk, now. */
  placeAlarmCall(req: AlarmCallRequest, listener: AlarmCallListener): AlarmCallHandle {
    this.preempt(`the alarm ${req.alarmId}`);
    // Deferrable work waits from here to the call's first RTP packet (media()) or its end (release).
    this.setupEnds.get(req.callId)?.();
    const endSetup = this.opts.setup?.begin();
    if (endSetup) this.setupEnds.set(req.callId, endSetup);
    // Its log line is written once the window closes: the INVITE and the first RTP packet do not wait for it.
    const line = () => this.opts.log.info({ callId: req.callId, alarmId: req.alarmId, attempt: req.attempt, target: req.target }, 'placing alarm call');
    if (this.opts.setup) this.opts.setup.afterSetup(line);
    else line();
    const handle = placeAlarmCall(
      {
        ua: this.ua,
        bus: this.opts.bus,
        log: this.opts.log,
        config: this.opts.config,
        activate: (callId, session, l) => {
          this.call = { id: callId, kind: 'emergency', incoming: false, trust: OWN_CALL, peerHosts: new Set(), alarm: l, digits: '', digitsAt: 0, timers: [] };
          this.attach(callId, session);
        },
        release: (callId) => {
          this.endSetup(callId);
          if (this.call?.id !== callId) return;
          this.call.timers.forEach(clearTimeout);
          this.call = undefined;
        },
      },
      req,
      listener,
    );
    if (this.call?.id === req.callId) this.call.alarmHandle = handle;
    return handle;
  }

  /** Closes the set-up window of an alarm call (its first RTP packet left, or it ended). */
  private endSetup(callId: string): void {
    const end = this.setupEnds.get(callId);
    if (!end) return;
    this.setupEnds.delete(callId);
    // The next call's RTP socket, bound now rather than a fixed time after this call took the spare: a press soon
    // after this call (a re-sent alarm, the next desk) finds it ready. With the window's other deferred work.
    this.opts.setup!.afterSetup(() => void this.rtpSpare?.fill());
    end();
  }

  /** The registrars this user agent is registered with now (their configured URIs). */
  registeredWith(): string[] {
    return this.registration?.registeredUris() ?? [];
  }

  /** A supervision test call over the alarm's own path; refused (throws) while a call is in progress or an alarm is open. */
  placeTestCall(req: TestCallRequest, listener: TestCallListener): TestCallHandle {
    if (this.opts.alarm?.()?.isOpen()) throw new Error('an alarm is open');
    if (this.call) throw new Error(`a call is in progress (${this.call.id})`);
    if (this.ringing.size) throw new Error('a call is ringing');
    this.opts.log.info({ callId: req.callId, testId: req.testId, target: req.target }, 'placing test call');
    return placeTestCall(
      {
        ua: this.ua,
        log: this.opts.log,
        config: this.opts.config,
        media: (session, m) => (m ? this.ownMedia.set(session, m) : this.ownMedia.delete(session)),
        activate: (callId, session, l, handle) => {
          this.call = { id: callId, kind: 'information', incoming: false, trust: OWN_CALL, peerHosts: new Set(), test: l, testHandle: handle, digits: '', digitsAt: 0, timers: [] };
          this.attach(callId, session);
        },
        release: (callId) => {
          this.endSetup(callId);
          if (this.call?.id !== callId) return;
          this.call.timers.forEach(clearTimeout);
          this.call = undefined;
        },
      },
      req,
      listener,
    );
  }

  private attach(callId: string, session: Session): void {
    if (this.call?.id === callId) this.call.session = session;
    this.sessionCalls.set(session.id, callId);
    if (this.sessionCalls.size > 200) this.sessionCalls.delete(this.sessionCalls.keys().next().value!);
    session.delegate = {
      onInfo: (info) => {
        const body = info.request.body ?? '';
        const type = (info.request.getHeader('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
        if (type === 'application/x-helppoint-alarm') {
          const call = this.call;
          if (call?.alarm && call.session?.id === session.id) {
            void info.accept().catch(() => {});
            call.alarm({ type: 'info', body });
          } else {
            this.opts.log.warn({ callId }, 'alarm INFO on a call that is not an alarm call: refused');
            void info.reject({ statusCode: 488 }).catch(() => {});
          }
          return;
        }
        if (type === TEST_INFO_TYPE) {
          const call = this.call;
          if (call?.test && call.session?.id === session.id) {
            void info.accept().catch(() => {});
            call.test({ type: 'info', body });
          } else void info.reject({ statusCode: 488 }).catch(() => {});
          return;
        }
        const m = /Signal\s*=\s*([0-9*#A-D])/i.exec(body);
        const call = this.call?.id === callId ? this.call : undefined;
        if (m && call && !this.fromPeer(call, info.request.viaBranch)) {
          const via = this.trustPolicy.ofArrival(this.arrivalOf(info.request.viaBranch)).via;
          this.opts.log.warn({ callId, via }, 'DTMF INFO from outside the call refused');
          this.opts.bus.emit('call.refused', { callId, action: 'dtmf', reason: `INFO from ${via}, not from the call's peer` });
          void info.reject({ statusCode: 403 }).catch(() => {});
          return;
        }
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
    this.notePeers(call, session);
    const sip = this.opts.config().sip;
    if (call.page) {
      // A page has its own limit and no warning beeps (they would play into the announcement).
      const max = sip.paging?.maxDurationS ?? 0;
      if (max > 0) call.timers.push(setTimeout(() => this.endPage(call, `longer than sip.paging.maxDurationS (${max} s)`), max * 1000));
      return;
    }
    const limit = call.incoming ? sip.incomingCallTimeLimitS : sip.callTimeLimitS;
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

  /** How a request (by its top-Via branch) reached us. */
  private arrivalOf(branch: string | undefined): Arrival | undefined {
    if (!branch) return undefined;
    // sip.js's own WebSocket transport has one connection: the one we opened to the registrar.
    if (!this.transport) return { transport: 'ws', host: '', port: 0, dialed: true };
    return this.transport.arrival(branch);
  }

  /** The hosts a connected call's signalling comes from: where the answer (or the INVITE) came from, and the peer's Contact. */
  private notePeers(call: ActiveCall, session: Session): void {
    const branch = session instanceof Invitation ? session.request.viaBranch : session instanceof Inviter ? session.request.branch : undefined;
    const a = branch ? (session instanceof Invitation ? this.arrivalOf(branch) : this.transport?.responseArrival(branch)) : undefined;
    if (a?.host) call.peerHosts.add(a.host);
    const contact = session.dialog?.remoteTarget.host;
    if (contact) call.peerHosts.add(contact);
  }

  /** Did an in-dialog request come from the call's own peer (or over a trusted path)? */
  private fromPeer(call: ActiveCall, branch: string | undefined): boolean {
    if (!this.transport) return true; // WebSocket: everything comes over the one connection to the registrar
    const a = this.arrivalOf(branch);
    if (!a) return false;
    return call.peerHosts.has(a.host) || this.trustPolicy.ofArrival(a).trusted;
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
    if (e.type === 'rtp-silence') return this.silent(sessionId, e.silentMs);
    if (e.type === 'first-rtp-in' || e.type === 'first-rtp-out') this.marks.set(`${sessionId}:${e.type}`, performance.now());
    if (e.type === 'first-rtp-out') this.endSetup(this.sessionCalls.get(sessionId) ?? sessionId);
    if (e.type === 'stats') {
      this.opts.log.info({ session: sessionId, rtp: e.stats }, 'call media statistics');
      const callId = this.sessionCalls.get(sessionId) ?? sessionId;
      const { remote: _remote, ...stats } = e.stats;
      this.opts.bus.emit('call.media', { callId, ...stats });
    }
  }

  /** No RTP from the far end: an alarm call is the controller's to end; any other call ends here. */
  private silent(sessionId: string, silentMs: number): void {
    const call = this.call;
    if (!call || call.session?.id !== sessionId) return;
    if (call.test) return; // supervision times its own steps
    this.opts.log.warn({ callId: call.id, silentMs }, 'no RTP from the far end');
    if (call.alarm) return call.alarm({ type: 'media-silent', silentMs }); // the controller decides
    const reason = `no RTP for ${Math.round(silentMs / 1000)} s`;
    if (call.page) return this.endPage(call, reason);
    if (call.outgoing) call.outgoing.endReason = reason;
    if (call.session?.state === SessionState.Established) void call.session.bye().catch(() => {});
  }

  private digit(sessionId: string, digit: string): void {
    const call = this.call;
    if (!call || call.session?.id !== sessionId) return;
    // A test call's digits are the test's: never a door code.
    if (call.test) return call.test({ type: 'dtmf', digit });
    // A page only plays: its digits act on nothing (a paging phone must not open the door).
    if (call.page) return;
    const now = Date.now();
    if (now - call.digitsAt > 3000) call.digits = '';
    call.digits = (call.digits + digit).slice(-8);
    call.digitsAt = now;
    this.opts.bus.emit('call.dtmf', { callId: call.id, digits: call.digits });
    call.alarm?.({ type: 'dtmf', digits: call.digits });
    const code = this.opts.config().sip.doorDtmf;
    if (call.digits.endsWith(code)) {
      call.digits = '';
      if (!isTrustedCall(call)) {
        this.opts.log.warn({ callId: call.id, via: call.trust.via }, 'door code on an untrusted call: the door stays shut');
        this.opts.bus.emit('call.refused', { callId: call.id, action: 'door', reason: `untrusted call (${call.trust.via})` });
        return;
      }
      this.opts.log.info({ callId: call.id }, 'door code from the desk');
      this.opts.bus.emit('relay.pulse', { output: 'doorRelay', source: 'dtmf' });
    }
  }

  private incoming(inv: Invitation): void {
    const { log, bus } = this.opts;
    const from = `${inv.request.from.uri.user ?? ''}@${inv.request.from.uri.host}`;
    // A call to the paging address is a page, never an alarm call-back or an ordinary call (during an alarm: 486).
    const paging = this.opts.config().sip.paging;
    if (paging && isPageRequest(inv.request, paging, this.pageRequests.has(inv.request))) {
      try {
        return this.page(inv, paging, from);
      } catch (err) {
        log.error({ err, from }, 'taking a SIP page failed');
        void inv.reject({ statusCode: 500 }).catch(() => {});
        return;
      }
    }
    try {
      if (this.alarmCallback(inv, from)) return;
    } catch (err) {
      log.error({ err, from }, 'taking a call-back for the alarm failed; handled as an ordinary incoming call');
    }
    const arrival = this.arrivalOf(inv.request.viaBranch);
    const trust = this.trustPolicy.ofArrival(arrival);
    // A trusted caller (a desk calling back, by how the call arrived) gets through a supervision test call: the test
    // ends as interrupted (not a fault) and runs again later. An untrusted one is not let end tests: 486 while it runs.
    if (this.call?.testHandle && trust.trusted) this.preempt(`an incoming call from ${from} (${trust.reason ?? 'trusted'})`);
    if (this.call || this.ringing.size > 0) {
      log.info({ from, ...(this.call?.testHandle ? { during: 'test call', trusted: false } : {}) }, 'incoming call while busy: 486');
      void inv.reject({ statusCode: 486 }).catch(() => {});
      return;
    }
    const sip = this.opts.config().sip;
    const fromAllowed = sourceAllowed(inv.request, sip.autoAnswerFrom);
    const id = inv.id;
    const active: ActiveCall = { id, kind: 'information', incoming: true, trust, peerHosts: new Set(arrival?.host ? [arrival.host] : []), session: inv, digits: '', digitsAt: 0, timers: [] };
    const trusted = isTrustedCall(active);
    // This listener first: the call is the active one before attach()'s listener starts its time limit.
    inv.stateChange.addListener((s) => {
      if (s === SessionState.Established) {
        this.call = active;
        bus.emit('call.state', { callId: id, kind: 'information', state: 'connected', target: from, incoming: true, trusted });
      }
      if (s === SessionState.Terminated) {
        const wasRinging = this.ringing.delete(id);
        active.timers.forEach(clearTimeout);
        if (this.call === active) this.call = undefined;
        bus.emit('call.state', { callId: id, kind: 'information', state: wasRinging ? 'failed' : 'ended', target: from, incoming: true, trusted, reason: wasRinging ? 'not answered' : undefined });
      }
    });
    this.attach(id, inv);
    const asks = asksForAutoAnswer(inv.request);
    if (asks && trusted && fromAllowed) {
      this.call = active;
      log.info({ from, via: trust.via, trust: trust.reason }, 'auto-answering a call from the desk');
      void inv.accept().catch((err: Error) => log.warn({ err: err.message }, 'auto-answer failed'));
      return;
    }
    if (asks) {
      const reason = trusted ? `caller ${from} is not in sip.autoAnswerFrom` : `the call did not arrive over a trusted path (${trust.via})`;
      log.warn({ from, via: trust.via }, `auto-answer refused: ${reason}`);
      bus.emit('call.refused', { callId: id, action: 'auto-answer', reason });
    }
    log.info({ from, via: trust.via, trusted }, 'incoming call rings on the screen');
    // A ringing call does not occupy the kiosk: an emergency press still calls out (and ends the ringing).
    this.ringing.set(id, inv);
    void inv.progress().catch(() => {});
    bus.emit('call.state', { callId: id, kind: 'information', state: 'ringing', target: from, incoming: true, trusted });
  }

  /** A call to the paging address (paging.ts): answered at once receive-only into the page channel, or refused. */
  private page(inv: Invitation, paging: PagingConfig, from: string): void {
    const { log, bus } = this.opts;
    const id = inv.id;
    const arrival = this.arrivalOf(inv.request.viaBranch);
    const trust = this.trustPolicy.ofArrival(arrival);
    const via = trust.via;
    const verdict = pageVerdict(inv.request, paging, trust, {
      alarmOpen: !!this.opts.alarm?.()?.isOpen(),
      call: this.call ? (this.call.page ? 'page' : 'call') : undefined,
      ringing: this.ringing.size > 0,
    });
    if (!verdict.ok) {
      log.warn({ callId: id, from, via, code: verdict.code }, `SIP page refused: ${verdict.reason}`);
      bus.emit('call.page', { callId: id, state: 'refused', from, via, code: verdict.code, reason: verdict.reason });
      void inv.reject({ statusCode: verdict.code }).catch(() => {});
      return;
    }
    const out = this.opts.output && sipPageOutput(this.opts.output, { id: `sip-page-${id}`, priority: paging.priority, volume: paging.volume, bus });
    // Its own media: the page channel instead of the call channel; the microphone is never taken, nothing is sent.
    this.ownMedia.set(inv, { input: this.opts.input, output: out, receiveOnly: true });
    const page: NonNullable<ActiveCall['page']> = { from, via, silence: out?.stop };
    const active: ActiveCall = { id, kind: 'information', incoming: true, trust, peerHosts: new Set(arrival?.host ? [arrival.host] : []), session: inv, page, digits: '', digitsAt: 0, timers: [] };
    this.call = active;
    inv.stateChange.addListener((s) => {
      if (s === SessionState.Established) {
        page.startedAt = Date.now();
        log.info({ callId: id, from, via, trust: trust.reason }, 'SIP page started');
        bus.emit('call.page', { callId: id, state: 'started', from, via });
      } else if (s === SessionState.Terminated) {
        active.timers.forEach(clearTimeout);
        if (this.call === active) this.call = undefined;
        this.ownMedia.delete(inv);
        if (page.startedAt === undefined) {
          const reason = page.endReason ?? 'ended before it was answered (the caller cancelled, or its SDP had no codec the kiosk takes)';
          log.warn({ callId: id, from, via }, `SIP page not answered: ${reason}`);
          bus.emit('call.page', { callId: id, state: 'refused', from, via, reason });
          return;
        }
        const reason = page.endReason ?? 'hung up';
        const durationMs = Date.now() - page.startedAt;
        log.info({ callId: id, from, durationMs, reason }, 'SIP page ended');
        bus.emit('call.page', { callId: id, state: 'ended', from, via, reason, durationMs });
      }
    });
    this.attach(id, inv);
    log.info({ callId: id, from, via }, 'answering a SIP page');
    void inv.accept().catch((err: Error) => {
      page.endReason ??= `answer failed: ${err.message}`;
      log.warn({ callId: id, err: err.message }, 'answering a SIP page failed');
    });
  }

  /** Ends a page call from the kiosk side (an alarm, its time limit, no RTP): BYE, or as soon as it is established. */
  private endPage(call: ActiveCall, reason: string): void {
    const inv = call.session;
    if (!call.page || !inv) return;
    call.page.endReason ??= reason;
    if (this.call === call) this.call = undefined;
    call.timers.forEach(clearTimeout);
    if (inv.state === SessionState.Established) void inv.bye().catch(() => {});
    else if (inv.state === SessionState.Establishing) {
      // answered, the ACK not yet in: a BYE may go once it is (RFC 3261 15)
      const onState = (st: SessionState) => {
        if (st !== SessionState.Established) return;
        inv.stateChange.removeListener(onState);
        void inv.bye().catch(() => {});
      };
      inv.stateChange.addListener(onState);
    } else if (inv instanceof Invitation && inv.state === SessionState.Initial) void inv.reject({ statusCode: 486 }).catch(() => {});
  }

  /**
   * During an open alarm a desk may call back: trusted by how the call arrived
   * (from the registrar in use or from one of the emergency desks' addresses,
   * never by its From header), it is answered at once and becomes the alarm's call.
   */
  private alarmCallback(inv: Invitation, from: string): boolean {
    const alarm = this.opts.alarm?.();
    if (!alarm?.isOpen()) return false;
    // Over sip.js's WebSocket transport everything arrives on the connection to the proxy we registered with.
    const arrival = this.transport ? this.transport.sourceOf(inv.request) : this.registration?.active();
    const trusted = trustedForAlarmCallback(arrival, this.opts.config(), this.registration?.active());
    const { log, bus } = this.opts;
    if (!trusted) {
      log.warn({ from, arrival }, 'call during an open alarm from an untrusted source: not answered automatically');
      return false;
    }
    const id = inv.id;
    const handle: AlarmCallHandle = {
      callId: id,
      end: (reason) => {
        log.info({ callId: id, reason }, 'ending the call-back');
        if (inv.state === SessionState.Established) void inv.bye().catch(() => {});
        else if (inv.state === SessionState.Initial || inv.state === SessionState.Establishing) void inv.reject({ statusCode: 480 }).catch(() => {});
      },
    };
    const listener = alarm.adoptIncoming({ ...handle, from });
    if (!listener) return false;
    this.preempt('a desk calling back during the alarm');
    // Trusted by arrival (alarm-trust.ts): the desk's code may pulse the door on it too.
    const trust: Trust = { trusted: true, reason: 'trusted-source', via: describeArrival(arrival as Arrival | undefined) };
    const active: ActiveCall = { id, kind: 'emergency', incoming: true, trust, peerHosts: new Set(arrival?.host ? [arrival.host] : []), session: inv, alarm: listener, alarmHandle: handle, digits: '', digitsAt: 0, timers: [] };
    this.call = active;
    this.attach(id, inv);
    let answered = false;
    inv.stateChange.addListener((s) => {
      if (s === SessionState.Established) {
        answered = true;
        bus.emit('call.state', { callId: id, kind: 'emergency', state: 'connected', target: from, incoming: true, trusted: true });
        listener({ type: 'connected' });
      } else if (s === SessionState.Terminated) {
        active.timers.forEach(clearTimeout);
        if (this.call === active) this.call = undefined;
        const reason = answered ? 'hung up' : 'not answered';
        bus.emit('call.state', { callId: id, kind: 'emergency', state: answered ? 'ended' : 'failed', target: from, incoming: true, reason });
        listener({ type: 'ended', reason, answered });
      }
    });
    log.info({ from, arrival }, 'answering a desk call-back during the alarm');
    void inv.accept().catch((err: Error) => log.warn({ err: err.message }, 'answering the call-back failed'));
    return true;
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
    if (call.alarm) return; // the alarm controller answers a cancel during an alarm
    if (call.page) return; // the cancel button is the visitor's: it does not end an announcement
    if (call.outgoing) {
      if (!call.outgoing.cancel()) this.opts.log.info({ callId: call.id, source }, 'an emergency call cannot be cancelled by the caller');
    } else if (call.session?.state === SessionState.Established) void call.session.bye().catch(() => {});
    else if (call.session instanceof Invitation) void call.session.reject({ statusCode: 603 }).catch(() => {});
  }

  /** Without the alarm controller: an information call becomes an emergency call at once. */
  private upgrade(callId: string): void {
    const call = this.call;
    if (!call || call.id !== callId || call.kind !== 'information') return this.refuse('emergency', 'upgrade', `no information call ${callId} to upgrade`);
    this.opts.log.info({ callId }, 'upgrading to an emergency call');
    void this.place('emergency', 'upgrade', 'upgrade');
  }

  /** RTP statistics of the current call. */
  stats() {
    const sdh = this.call?.session?.sessionDescriptionHandler;
    return sdh instanceof RtpSessionDescriptionHandler ? sdh.stats() : undefined;
  }

  activeCall(): { id: string; kind: CallKind; state?: string; alarm?: boolean; test?: boolean; page?: boolean } | undefined {
    const c = this.call;
    return c ? { id: c.id, kind: c.kind, state: c.outgoing?.state, ...(c.alarm ? { alarm: true } : {}), ...(c.test ? { test: true } : {}), ...(c.page ? { page: true } : {}) } : undefined;
  }

  async stop(): Promise<void> {
    this.rewarm?.stop();
    for (const off of this.offs.splice(0)) off();
    for (const id of [...this.setupEnds.keys()]) this.endSetup(id);
    this.rtpSpare?.close();
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
