// The dispatcher's SIP phone in the browser: sip.js on its WebRTC platform,
// registered over WebSocket (WSS in production) with the site's SIP server.
// Kamailio + rtpengine bridge its WebRTC media to the kiosks' plain RTP, so a
// kiosk needs nothing special to talk to a desk.
//
// It is UI-free: the board subscribes to typed events (registered, incoming,
// established, ended, updated, error) and calls answer / reject / call /
// hangup / hold / mute / dtmf / alarm. It opens the microphone itself before
// answering, so a missing permission is a clear error while the call keeps
// ringing (the kiosk's hunt moves on by its own ring timeout), never a
// silent failure.
import { Invitation, Inviter, Registerer, RegistererState, SessionState, UserAgent, Web, type Session, type UserAgentOptions } from 'sip.js';
import { Emitter } from './emitter.js';
import { AudioMeter, loadWorklet } from './meter.js';

export interface PhoneConfig {
  /** the SIP server's WebSocket URL: wss://... (ws:// only on localhost) */
  wsUrl: string;
  user: string;
  domain: string;
  password?: string;
  /** digest user name when it differs from `user` */
  authUser?: string;
  displayName?: string;
  registerExpiresS?: number;
  /**
   * How long ICE gathering may take before the offer/answer goes out. The
   * default of sip.js (5 s, waiting for a public STUN server) stalls every
   * call on a closed network; rtpengine needs host candidates only.
   */
  iceGatheringTimeoutMs?: number;
  /** ICE servers (none by default: rtpengine is reachable directly) */
  iceServers?: RTCIceServer[];
  /**
   * Echo cancelling, noise suppression and automatic gain (on by default: a
   * desk uses speakers). Measurements turn them off: they change a test tone.
   */
  audioProcessing?: boolean;
  microphoneId?: string;
  speakerId?: string;
  /** where the phone puts its <audio> elements (default: document.body) */
  audioParent?: HTMLElement;
  /** reconnection back-off after the WebSocket drops */
  reconnect?: { minMs?: number; maxMs?: number };
}

export type CallDirection = 'incoming' | 'outgoing';
export type CallState = 'ringing' | 'calling' | 'connecting' | 'established' | 'ended';

export interface CallInfo {
  id: string;
  /** the SIP Call-ID (the kiosk's call records and rtpengine know the call by it) */
  sipCallId: string;
  direction: CallDirection;
  state: CallState;
  remoteUri: string;
  remoteName?: string;
  /** on an incoming call: the kiosk's metadata (X-Helppoint-*, Subject, Priority), names in lower case */
  headers: Record<string, string>;
  held: boolean;
  muted: boolean;
  /** performance.now() times */
  startedAt: number;
  answeredAt?: number;
  endedAt?: number;
  /** why the call ended: "hung up", "remote hung up", "486 Busy Here", ... */
  endReason?: string;
}

export type PhoneErrorCode =
  | 'microphone-denied' // the browser (or the user) refused the microphone
  | 'microphone-missing' // no microphone, or the chosen one is gone
  | 'microphone-failed' // in use elsewhere, insecure page, other failures
  | 'speaker' // the chosen speaker cannot be used
  | 'register-failed'
  | 'transport' // the WebSocket to the SIP server dropped
  | 'call-failed'
  | 'request-failed' // an in-call request (INFO, re-INVITE) was refused
  | 'no-call'
  | 'bad-state';

export class PhoneError extends Error {
  constructor(
    readonly code: PhoneErrorCode,
    message: string,
    readonly callId?: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'PhoneError';
  }
}

export interface PhoneEvents {
  registered: { registered: boolean; reason?: string };
  incoming: CallInfo;
  established: CallInfo;
  ended: CallInfo;
  /** hold or mute changed */
  updated: CallInfo;
  error: { code: PhoneErrorCode; message: string; callId?: string; status?: number };
}

export type AlarmAction = 'ack' | 'reset';
export type DtmfMethod = 'rfc4733' | 'info';

/** Content type of the in-band alarm acknowledgement (contracts: alarm, in-band). */
export const ALARM_INFO_TYPE = 'application/x-helppoint-alarm';

interface Call {
  info: CallInfo;
  session: Session;
  audio: HTMLAudioElement;
  /** microphone opened before answering or calling, handed to sip.js when it asks */
  stream?: MediaStream;
}

const METADATA = /^(x-helppoint-.*|subject|priority|call-info|alert-info)$/i;

export class DeskPhone extends Emitter<PhoneEvents> {
  private ua?: UserAgent;
  private registerer?: Registerer;
  private readonly calls = new Map<string, Call>();
  private audioCtx?: AudioContext;
  private stopping = false;
  private reconnectTimer?: ReturnType<typeof setTimeout>;
  private reconnectDelay = 0;
  private readonly cfg: PhoneConfig;

  constructor(config: PhoneConfig) {
    super();
    this.cfg = { ...config };
  }

  get registered(): boolean {
    return this.registerer?.state === RegistererState.Registered;
  }

  /** Connects and registers; resolves once registered, rejects with the reason otherwise. */
  async start(timeoutMs = 10_000): Promise<void> {
    const c = this.cfg;
    this.stopping = false;
    const options: UserAgentOptions = {
      uri: UserAgent.makeURI(`sip:${c.user}@${c.domain}`),
      transportOptions: { server: c.wsUrl, traceSip: false },
      authorizationUsername: c.authUser ?? c.user,
      authorizationPassword: c.password,
      displayName: c.displayName,
      userAgentString: 'helppoint-desk/0.1',
      logBuiltinEnabled: false,
      logConnector: (level, category, _label, content) => {
        if (level === 'error') console.warn(`sip.js ${category}: ${content}`);
      },
      sessionDescriptionHandlerFactory: this.sdhFactory(),
      sessionDescriptionHandlerFactoryOptions: {
        // balanced, not max-bundle: rtpengine 10.5 answers a=mid without a=group:BUNDLE.
        peerConnectionConfiguration: { iceServers: c.iceServers ?? [], bundlePolicy: 'balanced' },
        iceGatheringTimeout: c.iceGatheringTimeoutMs ?? 500,
      },
      delegate: {
        onInvite: (inv) => this.incoming(inv),
        onDisconnect: (err) => this.disconnected(err),
      },
    };
    const ua = (this.ua = new UserAgent(options));
    // +sip.ice (RFC 5768): tells the SIP server this contact wants WebRTC media (ICE, DTLS-SRTP).
    const registerer = (this.registerer = new Registerer(ua, { expires: c.registerExpiresS ?? 300, extraContactHeaderParams: ['+sip.ice'] }));
    registerer.stateChange.addListener((s) => {
      if (s === RegistererState.Registered) this.emit('registered', { registered: true });
      if (s === RegistererState.Unregistered || s === RegistererState.Terminated) this.emit('registered', { registered: false, reason: this.stopping ? 'stopped' : 'unregistered' });
    });
    await ua.start();
    await this.register(timeoutMs);
  }

  private register(timeoutMs: number): Promise<void> {
    const registerer = this.registerer!;
    return new Promise<void>((resolve, reject) => {
      const fail = (message: string, status?: number) => {
        cleanup();
        const err = new PhoneError('register-failed', message, undefined, status);
        this.emit('error', { code: err.code, message, status });
        reject(err);
      };
      const timer = setTimeout(() => fail(`no answer to REGISTER within ${timeoutMs} ms`), timeoutMs);
      const onState = (s: RegistererState) => s === RegistererState.Registered && (cleanup(), resolve());
      const cleanup = () => {
        clearTimeout(timer);
        registerer.stateChange.removeListener(onState);
      };
      registerer.stateChange.addListener(onState);
      registerer
        .register({
          requestDelegate: {
            onReject: (res) => fail(`registration refused: ${res.message.statusCode} ${res.message.reasonPhrase}`, res.message.statusCode),
          },
        })
        .catch((e: Error) => fail(`registration failed: ${e.message}`));
    });
  }

  /** Unregisters, hangs up every call and closes the connection. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
    for (const id of [...this.calls.keys()]) await this.hangup(id).catch(() => {});
    try {
      if (this.registered) await this.registerer?.unregister();
    } catch {
      /* the connection may be gone already */
    }
    await this.ua?.stop().catch(() => {});
    await this.audioCtx?.close().catch(() => {});
    this.audioCtx = undefined;
  }

  /** The WebSocket dropped: say so, then reconnect and register again with back-off. */
  private disconnected(err?: Error): void {
    if (this.stopping) return;
    this.emit('registered', { registered: false, reason: 'connection lost' });
    this.emit('error', { code: 'transport', message: `connection to the SIP server lost${err ? `: ${err.message}` : ''}; reconnecting` });
    const { minMs = 1000, maxMs = 30_000 } = this.cfg.reconnect ?? {};
    this.reconnectDelay = Math.min(maxMs, this.reconnectDelay ? this.reconnectDelay * 2 : minMs);
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      if (this.stopping || !this.ua) return;
      this.ua
        .reconnect()
        .then(() => this.register(10_000))
        .then(() => (this.reconnectDelay = 0))
        .catch(() => this.disconnected());
    }, this.reconnectDelay);
  }

  list(): CallInfo[] {
    return [...this.calls.values()].map((c) => ({ ...c.info }));
  }

  call(id: string): CallInfo | undefined {
    const c = this.calls.get(id);
    return c && { ...c.info };
  }

  // ---- microphone, speaker, devices ----

  private constraints(): MediaStreamConstraints {
    const processing = this.cfg.audioProcessing ?? true;
    const audio: MediaTrackConstraints = { echoCancellation: processing, noiseSuppression: processing, autoGainControl: processing };
    if (this.cfg.microphoneId) audio.deviceId = { exact: this.cfg.microphoneId };
    return { audio, video: false };
  }

  /** Opens the microphone, or throws a PhoneError that says what to do. */
  async openMicrophone(): Promise<MediaStream> {
    if (!navigator.mediaDevices?.getUserMedia) {
      throw new PhoneError('microphone-failed', 'This page cannot use a microphone: open the console over HTTPS (browsers allow microphones only on secure pages).');
    }
    try {
      return await navigator.mediaDevices.getUserMedia(this.constraints());
    } catch (e) {
      throw microphoneError(e);
    }
  }

  /** Checks that the microphone can be opened (e.g. when the desk logs in), and closes it again. */
  async checkMicrophone(): Promise<void> {
    try {
      (await this.openMicrophone()).getTracks().forEach((t) => t.stop());
    } catch (e) {
      const err = e as PhoneError;
      this.emit('error', { code: err.code, message: err.message });
      throw err;
    }
  }

  async devices(): Promise<{ microphones: MediaDeviceInfo[]; speakers: MediaDeviceInfo[] }> {
    const all = await navigator.mediaDevices.enumerateDevices();
    return { microphones: all.filter((d) => d.kind === 'audioinput'), speakers: all.filter((d) => d.kind === 'audiooutput') };
  }

  /** Uses this microphone from now on, in calls in progress too. */
  async setMicrophone(deviceId: string | undefined): Promise<void> {
    this.cfg.microphoneId = deviceId;
    for (const call of this.calls.values()) {
      const pc = this.peer(call);
      const sender = pc?.getSenders().find((s) => s.track?.kind === 'audio');
      if (!sender) continue;
      const stream = await this.openMicrophone();
      const track = stream.getAudioTracks()[0]!;
      track.enabled = !call.info.muted && !call.info.held;
      const old = sender.track;
      await sender.replaceTrack(track);
      old?.stop();
    }
  }

  /**
   * Plays calls on this speaker (HTMLMediaElement.setSinkId). 'default' or '' is the system's default
   * output: Chromium lists it as a device with the id 'default', Firefox lists no such device and
   * refuses that id (NotFoundError); both take '' for it.
   */
  async setSpeaker(requested: string): Promise<void> {
    const deviceId = requested === 'default' ? '' : requested;
    const probe = document.createElement('audio') as HTMLAudioElement & { setSinkId?: (id: string) => Promise<void> };
    if (typeof probe.setSinkId !== 'function') throw this.fail(new PhoneError('speaker', 'This browser cannot choose the speaker: use the system sound settings.'));
    for (const call of this.calls.values()) {
      try {
        await (call.audio as HTMLAudioElement & { setSinkId(id: string): Promise<void> }).setSinkId(deviceId);
      } catch (e) {
        throw this.fail(new PhoneError('speaker', `Cannot play on the chosen speaker: ${(e as Error).message}`, call.info.id));
      }
    }
    this.cfg.speakerId = deviceId;
  }

  // ---- calls ----

  private incoming(inv: Invitation): void {
    const req = inv.request;
    const headers: Record<string, string> = {};
    for (const name of Object.keys(req.headers)) if (METADATA.test(name)) headers[name.toLowerCase()] = req.getHeaders(name).join(', ');
    const call = this.track(inv, {
      id: inv.id,
      sipCallId: req.callId,
      direction: 'incoming',
      state: 'ringing',
      remoteUri: req.from.uri.toString(),
      remoteName: req.from.displayName || undefined,
      headers,
      held: false,
      muted: false,
      startedAt: performance.now(),
    });
    // 180 Ringing: the kiosk shows "ringing" and its ring timeout runs.
    void inv.progress().catch(() => {});
    this.emit('incoming', { ...call.info });
  }

  /** Answers a ringing call. The microphone is opened first: without it the call keeps ringing. */
  async answer(id: string): Promise<void> {
    const call = this.get(id);
    if (!(call.session instanceof Invitation) || call.session.state !== SessionState.Initial) {
      throw this.fail(new PhoneError('bad-state', `call ${id} is not ringing`, id));
    }
    call.info.answeredAt = performance.now();
    try {
      call.stream = await this.openMicrophone();
    } catch (e) {
      call.info.answeredAt = undefined;
      throw this.fail(withCall(e as PhoneError, id));
    }
    call.info.state = 'connecting';
    await call.session.accept({ sessionDescriptionHandlerOptions: this.constraintsOptions() }).catch((e: Error) => {
      throw this.fail(new PhoneError('call-failed', `answering failed: ${e.message}`, id));
    });
  }

  /** Declines a ringing call; 486 Busy Here makes the kiosk try its next desk at once. */
  async reject(id: string, statusCode = 486): Promise<void> {
    const call = this.get(id);
    if (!(call.session instanceof Invitation) || call.session.state !== SessionState.Initial) throw this.fail(new PhoneError('bad-state', `call ${id} is not ringing`, id));
    call.info.endReason = `rejected (${statusCode})`;
    await call.session.reject({ statusCode });
  }

  /**
   * Calls a kiosk (call back) or any SIP user: "conc-north" or "sip:conc-north@site".
   * autoAnswer asks the kiosk to answer at once (Call-Info answer-after=0); the
   * kiosk decides whether it trusts the call enough to do so.
   */
  /** Calls a kiosk (or any SIP address). `muted`: the microphone stays off from the start (listen-in). */
  async dial(target: string, opts: { autoAnswer?: boolean; headers?: string[]; muted?: boolean } = {}): Promise<string> {
    const uri = UserAgent.makeURI(/^sips?:/i.test(target) ? target : `sip:${target}@${this.cfg.domain}`);
    if (!uri) throw this.fail(new PhoneError('call-failed', `not a SIP address: ${target}`));
    if (!this.ua) throw this.fail(new PhoneError('bad-state', 'the phone is not started'));
    const stream = await this.openMicrophone().catch((e: PhoneError) => {
      throw this.fail(e);
    });
    const extraHeaders = [...(opts.headers ?? [])];
    if (opts.autoAnswer) extraHeaders.push(`Call-Info: <sip:${this.cfg.domain}>;answer-after=0`);
    const inviter = new Inviter(this.ua, uri, { extraHeaders, sessionDescriptionHandlerOptions: this.constraintsOptions() });
    const call = this.track(inviter, {
      id: inviter.id,
      sipCallId: inviter.request.callId,
      direction: 'outgoing',
      state: 'calling',
      remoteUri: uri.toString(),
      headers: {},
      held: false,
      muted: opts.muted ?? false,
      startedAt: performance.now(),
    });
    call.stream = stream;
    if (opts.muted) stream.getAudioTracks().forEach((t) => (t.enabled = false));
    await inviter
      .invite({
        requestDelegate: {
          onReject: (res) => (call.info.endReason = `${res.message.statusCode} ${res.message.reasonPhrase}`),
        },
      })
      .catch((e: Error) => {
        void inviter.dispose().catch(() => {}); // terminates it: the call leaves the list, 'ended' is emitted
        throw this.fail(new PhoneError('call-failed', `calling ${target} failed: ${e.message}`, inviter.id));
      });
    return inviter.id;
  }

  /** Ends a call in any state: CANCEL while calling, 486 while ringing, BYE when established. */
  async hangup(id: string): Promise<void> {
    const call = this.get(id);
    const s = call.session;
    call.info.endReason ??= 'hung up';
    if (s.state === SessionState.Established) await s.bye();
    else if (s instanceof Inviter && (s.state === SessionState.Initial || s.state === SessionState.Establishing)) await s.cancel();
    else if (s instanceof Invitation && s.state === SessionState.Initial) await s.reject({ statusCode: 486 });
    else if (s.state !== SessionState.Terminated) await s.dispose();
  }

  /** Holds or resumes a call (re-INVITE with sendonly / sendrecv). */
  async hold(id: string, on = true): Promise<void> {
    const call = this.established(id);
    if (call.info.held === on) return;
    const s = call.session;
    s.sessionDescriptionHandlerOptionsReInvite = { ...s.sessionDescriptionHandlerOptionsReInvite, hold: on } as Web.SessionDescriptionHandlerOptions;
    await new Promise<void>((resolve, reject) => {
      s.invite({
        requestDelegate: {
          onAccept: () => {
            call.info.held = on;
            this.applyTracks(call);
            this.emit('updated', { ...call.info });
            resolve();
          },
          onReject: (res) => {
            s.sessionDescriptionHandlerOptionsReInvite = { ...s.sessionDescriptionHandlerOptionsReInvite, hold: !on } as Web.SessionDescriptionHandlerOptions;
            reject(this.fail(new PhoneError('request-failed', `${on ? 'hold' : 'resume'} refused: ${res.message.statusCode} ${res.message.reasonPhrase}`, id, res.message.statusCode)));
          },
        },
      }).catch((e: Error) => reject(this.fail(new PhoneError('request-failed', `${on ? 'hold' : 'resume'} failed: ${e.message}`, id))));
    });
  }

  /** Mutes or unmutes the desk's microphone in a call (the kiosk then hears silence). */
  mute(id: string, on = true): void {
    const call = this.established(id);
    call.info.muted = on;
    this.applyTracks(call);
    this.emit('updated', { ...call.info });
  }

  /**
   * Sends DTMF: in the media (RFC 4733 telephone-event, through rtpengine to
   * the kiosk) or as SIP INFO application/dtmf-relay, one request per digit.
   * Resolves once every digit has been sent (INFO: accepted).
   */
  async dtmf(id: string, tones: string, method: DtmfMethod = 'rfc4733'): Promise<void> {
    if (!/^[0-9A-D#*]+$/i.test(tones)) throw this.fail(new PhoneError('bad-state', `not DTMF digits: ${tones}`, id));
    const call = this.established(id);
    if (method === 'info') {
      for (const tone of tones.toUpperCase()) await this.info(call, 'application/dtmf-relay', `Signal=${tone}\r\nDuration=160\r\n`);
      return;
    }
    const sender = this.peer(call)?.getSenders().find((s) => s.track?.kind === 'audio');
    const dtmf = sender?.dtmf;
    if (!dtmf || !dtmf.canInsertDTMF) throw this.fail(new PhoneError('request-failed', 'this call cannot send DTMF in the media (no telephone-event negotiated)', id));
    const duration = 120;
    const gap = 70;
    await new Promise<void>((resolve) => {
      const done = setTimeout(finish, tones.length * (duration + gap) + 1000);
      function finish() {
        clearTimeout(done);
        dtmf!.removeEventListener('tonechange', onTone);
        resolve();
      }
      const onTone = (e: RTCDTMFToneChangeEvent) => e.tone === '' && finish();
      dtmf.addEventListener('tonechange', onTone);
      dtmf.insertDTMF(tones, duration, gap);
    });
  }

  /**
   * The alarm's in-band acknowledgement or reset: SIP INFO with Content-Type
   * application/x-helppoint-alarm and body "action=ack" or "action=reset" on
   * the alarm's own call. Resolves with the kiosk's final status code (2xx);
   * rejects with a PhoneError carrying the status otherwise.
   */
  async alarm(id: string, action: AlarmAction): Promise<number> {
    if (action !== 'ack' && action !== 'reset') throw this.fail(new PhoneError('bad-state', `unknown alarm action ${String(action)}`, id));
    return this.info(this.established(id), ALARM_INFO_TYPE, `action=${action}`);
  }

  private info(call: Call, contentType: string, content: string): Promise<number> {
    const id = call.info.id;
    return new Promise<number>((resolve, reject) => {
      call.session
        .info({
          requestOptions: { body: { contentDisposition: 'render', contentType, content } },
          requestDelegate: {
            onAccept: (res) => resolve(res.message.statusCode ?? 200),
            onReject: (res) => reject(this.fail(new PhoneError('request-failed', `INFO ${contentType} refused: ${res.message.statusCode} ${res.message.reasonPhrase}`, id, res.message.statusCode))),
          },
        })
        .catch((e: Error) => reject(this.fail(new PhoneError('request-failed', `INFO ${contentType} failed: ${e.message}`, id))));
    });
  }

  // ---- measuring ----

  /** A meter on the call's received audio ('remote') or the desk's microphone ('local'). */
  async meter(id: string, which: 'remote' | 'local' = 'remote', timeoutMs = 5000): Promise<AudioMeter> {
    const call = this.get(id);
    const stream = await this.waitStream(call, which, timeoutMs);
    return new AudioMeter(this.context(), stream);
  }

  /** WebRTC statistics of the call's received audio (packets, loss, jitter, codec). */
  async stats(id: string): Promise<{ packetsReceived: number; packetsLost: number; jitterMs: number; codec?: string; totalSamplesDuration?: number } | undefined> {
    const pc = this.peer(this.get(id));
    if (!pc) return undefined;
    const report = await pc.getStats();
    let inbound: Record<string, unknown> | undefined;
    report.forEach((s: Record<string, unknown>) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') inbound = s;
    });
    if (!inbound) return undefined;
    const codec = inbound.codecId ? (report.get(inbound.codecId as string) as { mimeType?: string } | undefined)?.mimeType : undefined;
    return {
      packetsReceived: Number(inbound.packetsReceived ?? 0),
      packetsLost: Number(inbound.packetsLost ?? 0),
      jitterMs: Number(inbound.jitter ?? 0) * 1000,
      codec,
      totalSamplesDuration: inbound.totalSamplesDuration as number | undefined,
    };
  }

  // ---- internals ----

  private context(): AudioContext {
    if (!this.audioCtx) {
      this.audioCtx = new AudioContext();
      void loadWorklet(this.audioCtx).catch(() => {});
    }
    void this.audioCtx.resume().catch(() => {});
    return this.audioCtx;
  }

  private constraintsOptions(): Web.SessionDescriptionHandlerOptions {
    return { constraints: this.constraints() };
  }

  /** sip.js asks for the microphone through this factory: hand over the stream opened before answering or dialling. */
  private sdhFactory() {
    return (session: Session, options?: object) => {
      const streams: Web.MediaStreamFactory = (constraints) => {
        const call = this.calls.get(session.id);
        const ready = call?.stream;
        if (ready && ready.getAudioTracks().every((t) => t.readyState === 'live')) {
          call!.stream = undefined;
          return Promise.resolve(ready);
        }
        if (!constraints.audio && !constraints.video) return Promise.resolve(new MediaStream());
        return this.openMicrophone();
      };
      return Web.defaultSessionDescriptionHandlerFactory(streams)(session, options);
    };
  }

  private track(session: Session, info: CallInfo): Call {
    const audio = document.createElement('audio');
    audio.autoplay = true;
    audio.dataset.call = info.id;
    (this.cfg.audioParent ?? document.body).appendChild(audio);
    if (this.cfg.speakerId) void (audio as HTMLAudioElement & { setSinkId?(id: string): Promise<void> }).setSinkId?.(this.cfg.speakerId).catch(() => {});
    const call: Call = { info, session, audio };
    this.calls.set(info.id, call);
    session.delegate = {
      // The received stream must play in an <audio> element, or Chromium decodes nothing.
      onSessionDescriptionHandler: (sdh) => {
        const stream = (sdh as Web.SessionDescriptionHandler).remoteMediaStream;
        audio.srcObject = stream;
        stream.addEventListener('addtrack', () => void audio.play().catch(() => {}));
      },
      onBye: (bye) => {
        call.info.endReason ??= 'remote hung up';
        void bye.accept();
      },
      onInfo: (info) => void info.accept(),
    };
    session.stateChange.addListener((s) => {
      if (s === SessionState.Established) {
        info.state = 'established';
        info.answeredAt ??= performance.now();
        const call = this.calls.get(info.id);
        if (call) this.applyTracks(call);
        void audio.play().catch(() => {});
        this.emit('established', { ...info });
      }
      if (s === SessionState.Terminated) {
        info.state = 'ended';
        info.endedAt = performance.now();
        info.endReason ??= info.answeredAt === undefined ? (info.direction === 'incoming' ? 'caller gave up' : 'not answered') : 'ended';
        call.stream?.getTracks().forEach((t) => t.stop());
        audio.srcObject = null;
        audio.remove();
        this.calls.delete(info.id);
        this.emit('ended', { ...info });
      }
    });
    return call;
  }

  private get(id: string): Call {
    const call = this.calls.get(id);
    if (!call) throw this.fail(new PhoneError('no-call', `no call ${id}`, id));
    return call;
  }

  private established(id: string): Call {
    const call = this.get(id);
    if (call.session.state !== SessionState.Established) throw this.fail(new PhoneError('bad-state', `call ${id} is not established`, id));
    return call;
  }

  private peer(call: Call): RTCPeerConnection | undefined {
    return (call.session.sessionDescriptionHandler as Web.SessionDescriptionHandler | undefined)?.peerConnection;
  }

  private applyTracks(call: Call): void {
    const pc = this.peer(call);
    if (!pc) return;
    for (const s of pc.getSenders()) if (s.track) s.track.enabled = !call.info.held && !call.info.muted;
    for (const r of pc.getReceivers()) if (r.track) r.track.enabled = !call.info.held;
  }

  private async waitStream(call: Call, which: 'remote' | 'local', timeoutMs: number): Promise<MediaStream> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const sdh = call.session.sessionDescriptionHandler as Web.SessionDescriptionHandler | undefined;
      const stream = sdh && (which === 'remote' ? sdh.remoteMediaStream : sdh.localMediaStream);
      if (stream && stream.getAudioTracks().length > 0) return stream;
      if (performance.now() > deadline) throw this.fail(new PhoneError('bad-state', `call ${call.info.id} has no ${which} audio`, call.info.id));
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  private fail(err: PhoneError): PhoneError {
    this.emit('error', { code: err.code, message: err.message, callId: err.callId, status: err.status });
    return err;
  }
}

function withCall(err: PhoneError, callId: string): PhoneError {
  return err.callId ? err : new PhoneError(err.code, err.message, callId, err.status);
}

/** getUserMedia's DOMException -> what the dispatcher should do. */
export function microphoneError(e: unknown): PhoneError {
  const name = (e as { name?: string }).name ?? '';
  if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') {
    return new PhoneError('microphone-denied', 'The browser does not let this page use the microphone. Allow the microphone for this site (the icon in the address bar, or the browser settings), then answer again.');
  }
  if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') {
    return new PhoneError('microphone-missing', 'No microphone found (or the chosen one is gone): connect one or choose another in the phone settings.');
  }
  if (name === 'NotReadableError' || name === 'AbortError') {
    return new PhoneError('microphone-failed', 'The microphone cannot be opened: another program may be using it.');
  }
  return new PhoneError('microphone-failed', `The microphone cannot be opened: ${(e as Error).message ?? String(e)}`);
}
