// The hub's SIP endpoint: one sip.js user agent inside the hub process, on the
// intercom's Node transports (UDP, TCP) and RTP media, registered with the
// site's SIP server (with the intercom's failover between registrars). It is
// general on purpose: the PA console's live-page gateway answers calls with
// it, supervision's test answerer will too. A call's audio comes from an
// AudioInput and goes to an AudioOutput given per call, exactly as a kiosk
// wires its microphone and mixer.
//
//   const ep = new SipEndpoint({ account, localHost, log });
//   ep.onInvite = (call) => call.headers['x-page'] ? call.accept({ output }) : call.reject(403);
//   await ep.start();                       // resolves once registered
//   const out = await ep.call('sip:desk@site', { input, output });
import { useFastSipGrammar } from '../../intercom/sip-grammar.js';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Invitation, Inviter, SessionState, UserAgent, type Session, type UserAgentOptions } from 'sip.js';
import type { Static } from '@sinclair/typebox';
import { Bus } from '../../core/bus.js';
import type { Logger } from '../../core/log.js';
import type { Account } from '../../config/schema/sip.js';
import type { AudioInput, AudioOutput } from '../../audio/types.js';
import { codecList, RtpSessionDescriptionHandler, type MediaEvent, type RtpStats } from '../../intercom/media/index.js';
import { boundTransport } from '../../intercom/transports/bound.js';
import type { BaseTransport, TransportOptions } from '../../intercom/transports/base.js';
import type { Address, Arrival } from '../../intercom/transports/routing.js';
import { Registration } from '../../intercom/registration.js';

export interface SipEndpointOptions {
  /** the account (user, digest credentials, registrars primary first; none: unregistered) */
  account: Static<typeof Account>;
  /** address SIP and RTP bind to */
  localHost: string;
  /** SIP port (0: any free one) */
  localPort?: number;
  /** transport when no registrar names one */
  transport?: 'udp' | 'tcp';
  rtpPortRange?: { min: number; max: number };
  /** codec preference for answers and offers */
  codecs?: string[];
  log: Logger;
  userAgent?: string;
}

/** What a call hears and says: the far end's audio goes to `output`, `input` is sent. */
export interface CallMedia {
  input?: AudioInput;
  output?: AudioOutput;
}

export type EndpointCallState = 'ringing' | 'calling' | 'established' | 'ended';

/** One call of the endpoint (incoming or outgoing). Events: 'established', 'ended' (reason), 'media' (MediaEvent). */
export class EndpointCall extends EventEmitter {
  readonly id = randomUUID();
  state: EndpointCallState;
  /** why it ended ("remote hung up", "486 Busy Here", ...) */
  endReason?: string;
  /** the negotiated media's statistics, once the call has media */
  media?: RtpSessionDescriptionHandler;
  /** incoming calls: how the INVITE reached us (its source address, transport and flow), not what it says */
  arrival?: Arrival;

  constructor(
    readonly direction: 'incoming' | 'outgoing',
    readonly session: Session,
    readonly sipCallId: string,
    /** SIP headers of the INVITE, names in lower case (incoming calls) */
    readonly headers: Record<string, string>,
    /** the far end's URI and display name */
    readonly remote: { uri: string; name?: string },
  ) {
    super();
    this.state = direction === 'incoming' ? 'ringing' : 'calling';
  }

  /** Answers a ringing call with this media. */
  async accept(media: CallMedia = {}, extraHeaders: string[] = []): Promise<void> {
    if (!(this.session instanceof Invitation) || this.session.state !== SessionState.Initial) throw new Error(`call ${this.id} is not ringing`);
    mediaOf.set(this.session.id, media);
    await this.session.accept({ extraHeaders });
  }

  /** Declines a ringing call. */
  async reject(statusCode = 486, reasonPhrase?: string): Promise<void> {
    if (!(this.session instanceof Invitation) || this.session.state !== SessionState.Initial) return;
    this.endReason ??= `rejected (${statusCode})`;
    await this.session.reject({ statusCode, reasonPhrase });
  }

  /** Ends the call in whatever state it is. */
  async hangup(): Promise<void> {
    const s = this.session;
    this.endReason ??= 'hung up';
    if (s.state === SessionState.Established) await s.bye();
    else if (s instanceof Inviter && (s.state === SessionState.Initial || s.state === SessionState.Establishing)) await s.cancel();
    else if (s instanceof Invitation && s.state === SessionState.Initial) await s.reject({ statusCode: 486 });
    else if (s.state !== SessionState.Terminated) await s.dispose();
  }

  stats(): RtpStats | undefined {
    return this.media?.stats();
  }
}

/** Media of each session, set before sip.js asks the factory for it. */
const mediaOf = new Map<string, CallMedia>();

/** An input that never speaks: RTP carries silence (the media code pads what the input does not give). */
export const SILENT_INPUT: AudioInput = { rate: 8000, onFrame: () => () => undefined, start: async () => undefined, stop: async () => undefined };

const HEADER_LIMIT = 60;

export class SipEndpoint {
  ua?: UserAgent;
  transport?: BaseTransport;
  private registration?: Registration;
  private outbound?: Address;
  private readonly bus = new Bus();
  private readonly calls = new Map<string, EndpointCall>();
  registered = false;
  /** incoming calls; without a handler they are declined (480) */
  onInvite?: (call: EndpointCall) => void;
  /** registration changes */
  onRegistration?: (registered: boolean, reason?: string) => void;

  constructor(private readonly o: SipEndpointOptions) {}

  get localPort(): number {
    return this.transport?.localPort ?? 0;
  }

  /** The URI others call this endpoint at. */
  get uri(): string {
    return `sip:${this.o.account.user}@${this.o.account.domain}`;
  }

  /**
   * Starts the transport and registers; resolves once registered with one of
   * the registrars (or at once without any), rejects after `timeoutMs`.
   */
  async start(timeoutMs = 10_000): Promise<void> {
    const { account, log } = this.o;
    const kind = account.registrars[0]?.transport ?? this.o.transport ?? 'udp';
    if (kind !== 'udp' && kind !== 'tcp') throw new Error(`the hub's SIP endpoint speaks UDP or TCP, not ${kind}`);
    const topts: TransportOptions = {
      host: this.o.localHost,
      port: this.o.localPort ?? 0,
      onGarbage: (reason, from) => log.debug({ from: `${from.host}:${from.port}`, reason }, 'dropped non-SIP traffic'),
    };
    const transport = boundTransport(kind, topts, (t) => (this.transport = t), () => this.outbound);
    const codecs = codecList(this.o.codecs ?? ['G722', 'PCMU', 'PCMA'], (m) => log.warn(m));
    const options: UserAgentOptions = {
      uri: UserAgent.makeURI(this.uri),
      authorizationUsername: account.authUser ?? account.user,
      authorizationPassword: account.password,
      displayName: account.displayName,
      userAgentString: this.o.userAgent ?? 'helppoint-hub/0.1',
      logBuiltinEnabled: false,
      logConnector: (level, category, _label, content) => {
        if (level === 'error' || level === 'warn') log.debug({ sip: category }, content);
      },
      sessionDescriptionHandlerFactory: (session: Session) => {
        const media = mediaOf.get(session.id) ?? {};
        mediaOf.delete(session.id);
        const sdh = new RtpSessionDescriptionHandler({
          localHost: this.o.localHost,
          rtpPortRange: this.o.rtpPortRange,
          codecs,
          input: media.input ?? SILENT_INPUT,
          output: media.output,
          onEvent: (e: MediaEvent) => this.callOf(session)?.emit('media', e),
        });
        const call = this.callOf(session);
        if (call) call.media = sdh;
        return sdh;
      },
      delegate: { onInvite: (inv) => this.incoming(inv) },
      transportConstructor: transport,
      viaHost: this.o.localHost,
      contactName: account.user,
      contactParams: { transport: kind },
      forceRport: true,
      hackViaTcp: false,
      noAnswerTimeout: 120,
    };
    // sip.js's parser with its rule table decoded once, not per header (intercom/sip-grammar.ts), loaded beside the start-up
    void useFastSipGrammar().then((why) => why && log.warn(why));
    this.ua = new UserAgent(options);
    await this.ua.start();
    // sip.js builds the Contact without a port; ours is rarely 5060.
    if (this.transport) this.ua.contact.uri.port = this.transport.localPort;
    log.info({ uri: this.uri, transport: kind, port: this.localPort }, 'hub SIP endpoint ready');
    if (account.registrars.length === 0) return;
    const registered = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not registered with ${account.registrars.map((r) => r.uri).join(', ')} within ${timeoutMs} ms`)), timeoutMs);
      this.bus.on('sip.registration', (e) => {
        const now = this.registration?.active() !== undefined;
        if (now !== this.registered) {
          this.registered = now;
          this.onRegistration?.(now, e.reason);
        }
        if (now) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    this.registration = new Registration(this.ua, account, this.bus, log, (a) => (this.outbound = a));
    this.registration.start();
    await registered;
  }

  private callOf(session: Session): EndpointCall | undefined {
    return this.calls.get(session.id);
  }

  private track(call: EndpointCall): EndpointCall {
    const s = call.session;
    this.calls.set(s.id, call);
    s.delegate = {
      onBye: (bye) => {
        call.endReason ??= 'remote hung up';
        void bye.accept();
      },
      onInfo: (info) => void info.accept(),
    };
    s.stateChange.addListener((st) => {
      if (st === SessionState.Established) {
        call.state = 'established';
        call.emit('established');
      } else if (st === SessionState.Terminated) {
        call.state = 'ended';
        this.calls.delete(s.id);
        mediaOf.delete(s.id);
        call.endReason ??= call.direction === 'incoming' ? 'caller gave up' : 'ended';
        call.emit('ended', call.endReason);
      }
    });
    return call;
  }

  private incoming(inv: Invitation): void {
    // sip.js 0.21: when the ACK for our 200 never comes, it ends the session even if
    // it already ended (the caller's BYE or CANCEL raced the ACK) and throws "Invalid
    // state transition from Terminated to Terminated" from a timer, which would end
    // the hub process. A session that has ended has nothing left to end.
    const ackTimeout = (inv as unknown as { onAckTimeout: () => void }).onAckTimeout.bind(inv);
    (inv as unknown as { onAckTimeout: () => void }).onAckTimeout = () => {
      if (inv.state === SessionState.Terminated) return this.o.log.debug({ callId: inv.request.callId }, 'ACK timeout after the call ended: ignored');
      this.o.log.warn({ callId: inv.request.callId }, 'no ACK for our 200 OK: ending the call');
      try {
        ackTimeout();
      } catch (err) {
        this.o.log.warn({ callId: inv.request.callId, err: (err as Error).message }, 'ending a call without ACK failed');
      }
    };
    const req = inv.request;
    const headers: Record<string, string> = {};
    for (const name of Object.keys(req.headers).slice(0, HEADER_LIMIT)) headers[name.toLowerCase()] = req.getHeaders(name).join(', ');
    const call = this.track(new EndpointCall('incoming', inv, req.callId, headers, { uri: req.from.uri.toString(), name: req.from.displayName || undefined }));
    call.arrival = this.transport?.arrival(req.viaBranch);
    if (!this.onInvite) {
      void call.reject(480, 'Temporarily Unavailable');
      return;
    }
    try {
      this.onInvite(call);
    } catch (err) {
      this.o.log.error({ err: (err as Error).message }, 'incoming call handler failed');
      void call.reject(500);
    }
  }

  /**
   * Did a request arrive over our registration's flow: from the address and
   * port of a registrar we are registered with now (UDP), or over the
   * connection we opened to it (TCP)? What the request says about itself
   * (Via, From, any header) plays no part.
   */
  viaRegistration(a: Arrival | undefined): boolean {
    if (!a || !this.registered) return false;
    const plain = (h: string) => (h.startsWith('::ffff:') ? h.slice(7) : h.toLowerCase());
    return (this.registration?.registeredAddresses() ?? []).some((r) => plain(r.host) === plain(a.host) && r.port === a.port && (a.transport === 'udp' || !!a.dialed));
  }

  /** Calls a SIP URI; resolves once the INVITE is sent (watch 'established' / 'ended'). */
  async call(target: string, opts: CallMedia & { headers?: string[] } = {}): Promise<EndpointCall> {
    if (!this.ua) throw new Error('the SIP endpoint is not started');
    const uri = UserAgent.makeURI(target);
    if (!uri) throw new Error(`not a SIP URI: ${target}`);
    const inviter = new Inviter(this.ua, uri, { extraHeaders: opts.headers ?? [] });
    mediaOf.set(inviter.id, { input: opts.input, output: opts.output });
    const call = this.track(new EndpointCall('outgoing', inviter, inviter.request.callId, {}, { uri: uri.toString() }));
    await inviter.invite({
      requestDelegate: { onReject: (res) => (call.endReason = `${res.message.statusCode} ${res.message.reasonPhrase}`) },
    });
    return call;
  }

  /** Calls in progress. */
  list(): EndpointCall[] {
    return [...this.calls.values()];
  }

  async stop(): Promise<void> {
    for (const c of [...this.calls.values()]) await c.hangup().catch(() => undefined);
    this.registration?.stop();
    // Give the unregister a moment to leave before the transport closes.
    if (this.registered) await new Promise((r) => setTimeout(r, 50));
    await this.ua?.stop().catch(() => undefined);
    this.registered = false;
  }
}
