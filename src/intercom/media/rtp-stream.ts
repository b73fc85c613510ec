// One call's RTP: a UDP socket, 20 ms packets paced by our own drift-free
// clock, symmetric RTP (we send from the port we receive on), a small jitter
// buffer with loss concealment, RFC 4733 DTMF both ways, and RFC 3550
// statistics. Received RTP latches once to the negotiated peer: the first
// packet from the SDP's connection address fixes its source address, port and
// SSRC; packets from anyone else (another address, port or SSRC) are counted
// (`packetsRejected`) and dropped, so a stranger cannot talk into the call or
// send the door code by RFC 4733. A re-INVITE that moves the peer's media
// latches again. The audio path allocates nothing per packet: the microphone
// queue is a sample ring, packets are encoded into reused buffers, received
// payloads are copied into the jitter buffer's slots and decoded into reused
// frames. Received packets come from the socket as they arrive (a node
// socket) or are read on the media clock's tick before playout (a poll socket,
// rtp-socket.ts): either way with their arrival time.
import { randomInt } from 'node:crypto';
import { bindRtpSocket, rtpSocket, type BoundRtpSocket } from './rtp-spare.js';
import type { RtpSocket, RtpSocketKind } from './rtp-socket.js';
import { CODECS, type Codec } from '../../audio/codecs/index.js';
import type { AudioChannel, AudioInput, AudioOutput } from '../../audio/types.js';
import { createResampler, type Resampler } from '../../audio/resample.js';
import { SampleRing } from '../../audio/sample-ring.js';
import { buildDtmf, buildRtp, DTMF_CHARS, newRtpHeader, parseDtmf, readRtp, writeRtpHeader } from './rtp-packet.js';
import { JitterBuffer } from './jitter-buffer.js';
import { mediaClock, ORDER, type ClockTask } from '../../audio/media-clock.js';
import type { Direction } from './sdp.js';
import { setupTrace } from '../../core/setup-trace.js';
import { isLeased, leaseInput, type InputLease } from '../../audio/shared-input.js';

/** the longest a call's audio waits in the mixer behind what arrives (ms); the PA path's hub pages use the same */
const CALL_MAX_LAG_MS = 120;

const PTIME_MS = 20;
const JITTER_TARGET = 2; // packets buffered before playout starts (40 ms)
const JITTER_MAX = 10; // beyond this the buffer skips ahead (200 ms)
/**
 * Send and playout are aligned to the media clock's 20 ms grid (where the microphone's frames and the
 * mixer's call frames fall, see mixer.ts callFrameMs): all of a call's work shares one wake-up per packet.
 */
const GRID_MS = PTIME_MS;

export interface RtpStats {
  codec: string;
  packetsSent: number;
  packetsReceived: number;
  packetsLost: number;
  lossPct: number;
  jitterMs: number;
  concealedFrames: number;
  /** packets from anyone but the latched peer, dropped */
  packetsRejected: number;
  remote?: string;
}

export type MediaEvent =
  | { type: 'first-rtp-in' }
  | { type: 'first-rtp-out' }
  | { type: 'dtmf'; digit: string }
  | { type: 'stats'; stats: RtpStats }
  /** nothing received from the far end for silentMs while it should be sending (a dead desk sends no BYE) */
  | { type: 'rtp-silence'; silentMs: number }
  /** packets arrive again after an rtp-silence report */
  | { type: 'rtp-resumed' };

export class RtpStream {
  /** Not connected to the peer: packets from others must still arrive, to be counted (packetsRejected) and dropped. */
  private sock?: RtpSocket;
  port = 0;
  /** where we send: the SDP's address until the peer's first packet latches */
  remote?: { host: string; port: number };
  /** the peer as its SDP names it */
  private sdpRemote?: { host: string; port: number };
  /** the one source we accept media from, once latched */
  private latched?: { host: string; port: number; ssrc: number };
  codec?: Codec;
  payloadType = 0;
  dtmfPt?: number;
  direction: Direction = 'sendrecv';

  private readonly ssrc = randomInt(1, 2 ** 32 - 1);
  private seq = randomInt(0, 0xffff);
  private ts = randomInt(0, 2 ** 31);
  /** send and playout run on the process's media clock (media-clock.ts), not timers of their own */
  private sendTask?: ClockTask;
  private playTask?: ClockTask;
  private readonly clockTasks: (() => void)[] = [];
  private nextSend = 0;
  private nextPlay = 0;
  private micRing = new SampleRing(1600);
  private micScratch = new Int16Array(0);
  private unsubscribeMic?: () => void;
  private micLease?: InputLease;
  private micResampler?: Resampler;
  /** which startAudio the resampler being made is for: a codec change while one is made (WASM: asynchronously) makes another */
  private micResamplerFor = 0;
  private channel?: AudioChannel;
  private readonly jitterBuf = new JitterBuffer();
  private readonly hdr = newRtpHeader();
  private expectSeq?: number;
  /** one 20 ms frame at the codec's rate: to send, as decoded, the last good one, a concealed one */
  private sendPcm = new Int16Array(0);
  private playPcm = new Int16Array(0);
  private lastPcm = new Int16Array(0);
  private concealPcm = new Int16Array(0);
  private hasLast = false;
  /** Reused packet buffers; one is busy while the socket may still hold it: it holds none of ours once its send queue is empty. */
  private readonly packets: { buf: Buffer; busy: boolean }[] = [];
  private concealRun = 0;
  /** the peer went silent (hold, end of talk): playout waits, then rebuilds its depth before playing again */
  private paused = false;
  private primed = 0;
  private dtmfQueue: string[] = [];
  private dtmfActive?: { event: number; start: number; sent: number; endsSent: number };
  private lastDtmf?: { ts: number; event: number };
  private closed = false;
  /** RTP silence watch: last packet from the far end (performance.now), and whether silence was reported */
  private lastRxAt = 0;
  /** packets received as of the silence watch's last tick */
  private receivedAtTick = 0;
  /** the silence watch, on the media clock (a timer of its own would wake the process 4 more times a second) */
  private silenceTask?: ClockTask;
  private silenceReported = false;
  /**
   * The next audio packet starts a talkspurt and carries the marker bit (RFC 3551 4.1): the first one,
   * and the first after frames that were not sent (on hold), whose timestamp jumps by the pause.
   */
  private talkspurt = true;
  // statistics (RFC 3550 A.1, A.8)
  private sent = 0;
  private received = 0;
  private baseSeq?: number;
  private maxSeq = 0;
  private cycles = 0;
  private jitter = 0;
  private lastTransit = NaN;
  private concealed = 0;
  private rejected = 0;
  /** packet send instants (performance.now), for the benchmark */
  readonly sendTimes: number[] = [];
  recordSendTimes = false;
  /**
   * Each received audio packet of the negotiated payload type, as it comes
   * (before the jitter buffer): for relays that forward packets at once, like
   * the hub's page gateway. The payload is a view on the socket's buffer: use it
   * before returning. The jitter buffer and playout go on as usual.
   */
  onAudioPacket?: (p: { seq: number; timestamp: number; payload: Buffer }) => void;

  constructor(
    private readonly input: AudioInput,
    private readonly output: AudioOutput | undefined,
    private readonly onEvent: (e: MediaEvent) => void,
    /** a socket bound ahead of the call (rtp-spare.ts): the stream needs no bind() then */
    bound?: BoundRtpSocket,
    /** a SIP page (receive only): the microphone is never taken and nothing is sent, whatever the SDP says */
    private readonly receiveOnly = false,
    /** the kind of socket bind() makes (rtp-socket.ts); a bound socket is of its own kind */
    private readonly socketKind: RtpSocketKind = 'node',
  ) {
    if (bound) {
      this.sock = bound.socket;
      this.port = bound.port;
      this.listen();
    }
  }

  /** The call's RTP socket (bound ahead, or by bind()). */
  get socket(): RtpSocket {
    if (!this.sock) throw new Error('RTP stream not bound yet');
    return this.sock;
  }

  async bind(host: string, range?: { min: number; max: number }): Promise<number> {
    const sock = rtpSocket(this.socketKind, host);
    this.sock = sock;
    try {
      this.port = await bindRtpSocket(sock, host, range);
    } catch (err) {
      sock.close();
      throw err;
    }
    if (this.closed) sock.close();
    else this.listen();
    return this.port;
  }

  private listen(): void {
    const sock = this.sock!;
    sock.listen((buf, len, host, port, arrival) => this.receive(buf, len, host, port, arrival));
    if (sock.kind !== 'poll') return;
    // A poll socket is read on the media clock's grid, before playout in the same wake-up: a packet waits at most
    // until the tick that would play it anyway (playout is on the same grid), and costs no wake-up of its own.
    const task: ClockTask = {
      order: ORDER.receive,
      // the first read a tick from now: not inside the call's set-up (nothing can arrive before the offer is out)
      due: mediaClock.alignUp(performance.now() + GRID_MS, GRID_MS),
      tick: (now) => {
        sock.poll(now);
        let next = task.due + GRID_MS;
        while (next <= now) next += GRID_MS;
        return next;
      },
    };
    this.clockTasks.push(mediaClock.add(task));
  }

  /** Sets or changes the negotiated parameters (initial answer, re-INVITE). */
  configure(p: { codec: Codec; payloadType: number; dtmfPt?: number; remote: { host: string; port: number }; direction: Direction }): void {
    const codecChanged = this.codec?.name !== p.codec.name;
    // A fresh codec instance per stream: G.722 carries ADPCM state from packet to packet.
    if (codecChanged) this.codec = CODECS[p.codec.name]();
    this.payloadType = p.payloadType;
    this.dtmfPt = p.dtmfPt;
    this.direction = this.receiveOnly ? receiving(p.direction) : p.direction;
    // Keep the latch unless the peer moved its media (a hold to 0.0.0.0 is no move).
    const old = this.sdpRemote;
    const moved = !old || (p.remote.host !== '0.0.0.0' && (p.remote.host !== old.host || p.remote.port !== old.port));
    if (moved) {
      this.sdpRemote = p.remote;
      this.remote = p.remote;
      this.latched = undefined;
    }
    if (codecChanged) this.startAudio();
  }

  /**
   * Reports RTP silence of the far end: no packet for timeoutMs while the
   * negotiated direction says it sends (hold with a=inactive or sendonly
   * from us does not count). 0 turns the watch off.
   */
  watchSilence(timeoutMs: number): void {
    if (this.silenceTask || timeoutMs <= 0 || this.closed) return;
    this.lastRxAt = performance.now();
    // checked every 240 ms (a quarter of the timeout if shorter), in wake-ups the call's packets need anyway
    const period = Math.max(PTIME_MS, Math.round(Math.min(250, timeoutMs / 4) / PTIME_MS) * PTIME_MS);
    const task: ClockTask = {
      order: ORDER.play,
      due: mediaClock.alignUp(this.lastRxAt + period, GRID_MS),
      tick: (now) => {
        // Packets since the last tick: the clock is read here, not per packet (the receive path allocates nothing).
        if (this.received !== this.receivedAtTick) {
          this.receivedAtTick = this.received;
          this.lastRxAt = now;
        }
        const farSends = this.direction === 'sendrecv' || this.direction === 'recvonly';
        if (!farSends) this.lastRxAt = now;
        else if (!this.silenceReported && now - this.lastRxAt >= timeoutMs) {
          this.silenceReported = true;
          this.onEvent({ type: 'rtp-silence', silentMs: Math.round(now - this.lastRxAt) });
        }
        let next = task.due + period;
        while (next <= now) next += period;
        return next;
      },
    };
    this.silenceTask = task;
    this.clockTasks.push(mediaClock.add(task));
  }

  private startAudio(): void {
    if (!this.codec || this.closed) return;
    const rate = this.codec.rate;
    this.micResampler?.destroy();
    this.micResampler = undefined;
    const made = ++this.micResamplerFor;
    if (!this.receiveOnly && this.input.rate !== rate)
      void createResampler(this.input.rate, rate).then((r) => (this.closed || made !== this.micResamplerFor ? r.destroy() : (this.micResampler = r)));
    const frame = (rate * PTIME_MS) / 1000;
    this.micRing = new SampleRing(rate / 5); // keep <= 200 ms: latency over completeness
    this.sendPcm = new Int16Array(frame);
    this.playPcm = new Int16Array(frame);
    this.lastPcm = new Int16Array(frame);
    this.concealPcm = new Int16Array(frame);
    this.hasLast = false;
    this.packets.length = 0;
    if (this.receiveOnly) {
      // A page only plays: no microphone, no send clock (the output given for it maps the call channel to the page channel).
      this.channel?.end();
      this.channel = this.output?.openChannel({ channel: 'call', rate, id: `call-${this.ssrc}`, live: true, maxLagMs: CALL_MAX_LAG_MS } as never);
      return;
    }
    // The first packet at once (the call's set-up ends with it), before the microphone and the mixer channel are
    // started (it is silence either way: nothing from the microphone is queued yet), then on the mixer's grid.
    let first: number | undefined;
    if (!this.sendTask) {
      first = performance.now();
      this.sendFrame();
    }
    this.unsubscribeMic?.();
    this.unsubscribeMic = this.input.onFrame((f) => {
      if (this.input.rate === rate) return this.micRing.write(f);
      const r = this.micResampler;
      if (!r) return;
      const need = r.maxOut(f.length);
      if (this.micScratch.length < need) this.micScratch = new Int16Array(need);
      this.micRing.write(this.micScratch, r.convert(f, this.micScratch));
    });
    // The call holds the microphone (and the hands-free chain behind it) for its length and lets go in close().
    // Taken before the mixer channel opens, so the canceller's tap on the mixer sees this call's first frame.
    // A leased microphone that fails to start raises the audio fault itself; a plain input is started as it is.
    if (!this.micLease) {
      this.micLease = leaseInput(this.input, `call-${this.ssrc}`, false);
      if (isLeased(this.input)) this.micLease.ready.catch(() => {});
    }
    this.channel?.end();
    // A call plays at most CALL_MAX_LAG_MS behind what arrives: a burst after a stall (the jitter buffer catching up)
    // is trimmed at once instead of staying in the mouth-to-ear delay for the rest of the call (as a hub page).
    this.channel = this.output?.openChannel({ channel: 'call', rate, id: `call-${this.ssrc}`, live: true, maxLagMs: CALL_MAX_LAG_MS } as never);
    if (first !== undefined) {
      this.nextSend = mediaClock.alignUp(first + PTIME_MS, GRID_MS);
      this.sendTask = { order: ORDER.send, due: this.nextSend, tick: (now) => this.tickSend(now) };
      this.clockTasks.push(mediaClock.add(this.sendTask));
    }
  }

  private tickSend(now: number): number {
    // Drift-free pacing: packets are due on an ideal 20 ms grid; a late wake-up
    // sends what is due at once rather than slipping the whole stream.
    while (now >= this.nextSend) {
      this.sendFrame();
      this.nextSend += PTIME_MS;
      if (now - this.nextSend > 200) this.nextSend = mediaClock.alignUp(now, GRID_MS); // after a long stall, resynchronise
    }
    return this.nextSend;
  }

  private sendFrame(): void {
    const codec = this.codec;
    if (!codec) return;
    const rtpStep = 160; // 8 kHz RTP clock for G.711 (and for G.722 by RFC 3551)
    const frame = this.sendPcm;
    this.micRing.read(frame); // zero-padded: silence when the microphone is late
    const canSend = this.remote && (this.direction === 'sendrecv' || this.direction === 'sendonly') && this.remote.host !== '0.0.0.0';
    if (canSend && this.dtmfPt !== undefined && (this.dtmfActive || this.dtmfQueue.length)) this.sendDtmfPacket();
    else if (canSend) {
      const pkt = this.packetBuffer(12 + (codec.name === 'G722' ? frame.length / 2 : frame.length));
      codec.encodeInto(frame, pkt.buf, 12);
      writeRtpHeader(pkt.buf, this.talkspurt, this.payloadType, this.seq, this.ts, this.ssrc);
      this.talkspurt = false;
      this.send(pkt.buf, pkt);
    } else this.talkspurt = true; // a pause (hold): the timestamp runs on, nothing goes out
    this.ts = (this.ts + rtpStep) >>> 0;
  }

  /** A free packet buffer of exactly `bytes` (reused; a new one only while the socket may still hold all of ours). */
  private packetBuffer(bytes: number): { buf: Buffer; busy: boolean } {
    const packets = this.packets;
    // a send that completes at once (the usual case) never queues: an empty queue holds none of our buffers
    if (packets.length && this.sock?.sendQueueEmpty()) for (let i = 0; i < packets.length; i++) packets[i]!.busy = false;
    for (let i = 0; i < packets.length; i++) {
      const p = packets[i]!;
      if (!p.busy && p.buf.length === bytes) return p;
    }
    const p = { buf: Buffer.alloc(bytes), busy: false };
    packets.push(p);
    return p;
  }

  private send(packet: Buffer, pooled?: { busy: boolean }): void {
    if (!this.remote || !this.sock) return;
    this.seq = (this.seq + 1) & 0xffff;
    if (pooled) pooled.busy = true; // until the socket's send queue is empty again
    this.sock.send(packet, this.remote.port, this.remote.host);
    if (this.sent++ === 0) {
      setupTrace.mark('rtp-first-sent');
      this.onEvent({ type: 'first-rtp-out' });
    }
    if (this.recordSendTimes) this.sendTimes.push(performance.now());
  }

  /** Queues DTMF digits (RFC 4733): each 100 ms of tone, then a 60 ms gap. */
  sendDtmf(tones: string): boolean {
    if (this.dtmfPt === undefined) return false;
    for (const t of tones.toUpperCase()) if (DTMF_CHARS.includes(t)) this.dtmfQueue.push(t);
    return true;
  }

  private sendDtmfPacket(): void {
    if (!this.dtmfActive) {
      const digit = this.dtmfQueue.shift()!;
      this.dtmfActive = { event: DTMF_CHARS.indexOf(digit), start: this.ts, sent: 0, endsSent: 0 };
    }
    const d = this.dtmfActive;
    d.sent++;
    const duration = d.sent * 160;
    const end = d.sent >= 5; // 100 ms
    const pkt = buildDtmf({ event: d.event, end, volume: 10, duration });
    this.send(buildRtp({ marker: d.sent === 1, payloadType: this.dtmfPt!, seq: this.seq, timestamp: d.start, ssrc: this.ssrc }, pkt));
    if (end) {
      // The end packet is sent three times for robustness (RFC 4733 2.5.1.4).
      for (let i = 0; i < 2; i++) this.send(buildRtp({ marker: false, payloadType: this.dtmfPt!, seq: this.seq, timestamp: d.start, ssrc: this.ssrc }, pkt));
      this.dtmfActive = undefined;
    }
  }

  /** One packet: bytes [0, len) of buf, from host:port, arrived at `arrival` (performance.now() ms). */
  private receive(buf: Buffer, len: number, host: string, port: number, arrival: number): void {
    const p = this.hdr;
    if (this.closed || !readRtp(buf, p, len)) return;
    if (!this.fromPeer(p.ssrc, host, port)) {
      this.rejected++;
      return;
    }
    if (this.received++ === 0) this.onEvent({ type: 'first-rtp-in' });
    if (this.silenceReported) {
      this.silenceReported = false;
      this.onEvent({ type: 'rtp-resumed' });
    }
    this.updateStats(arrival);
    if (this.dtmfPt !== undefined && p.payloadType === this.dtmfPt) return this.receiveDtmf(p.timestamp, buf.subarray(p.payloadStart, p.payloadEnd));
    if (p.payloadType !== this.payloadType || !this.codec) return;
    if (this.direction === 'sendonly' || this.direction === 'inactive') return;
    if (this.onAudioPacket) this.onAudioPacket({ seq: p.seq, timestamp: p.timestamp, payload: buf.subarray(p.payloadStart, p.payloadEnd) });
    if (this.expectSeq === undefined) {
      this.expectSeq = p.seq;
      if (!this.playTask) {
        this.nextPlay = mediaClock.alignUp(arrival + JITTER_TARGET * PTIME_MS, GRID_MS);
        this.playTask = { order: ORDER.play, due: this.nextPlay, tick: (now) => this.tickPlay(now) };
        this.clockTasks.push(mediaClock.add(this.playTask));
      }
    }
    const ahead = (p.seq - this.expectSeq + 0x10000) & 0xffff;
    if (ahead >= 0x8000) return; // late: already played or concealed
    this.jitterBuf.put(p.seq, buf, p.payloadStart, p.payloadEnd);
    if (ahead > JITTER_MAX) this.expectSeq = (p.seq - JITTER_TARGET + 0x10000) & 0xffff; // far behind: skip ahead
  }

  /** Latches once to the negotiated peer; afterwards only its source and SSRC get through. */
  private fromPeer(ssrc: number, host: string, port: number): boolean {
    const l = this.latched;
    if (l) return l.ssrc === ssrc && l.port === port && l.host === host;
    const sdp = this.sdpRemote;
    if (!sdp || sdp.host !== host) return false; // before the SDP, or not the negotiated peer
    this.latched = { host, port, ssrc };
    // Symmetric RTP: answer to where the media really comes from (a port other than the SDP's, behind some NATs).
    this.remote = { host, port };
    return true;
  }

  private tickPlay(now: number): number {
    while (now >= this.nextPlay) {
      this.playOne();
      this.nextPlay += PTIME_MS;
    }
    return this.nextPlay;
  }

  private playOne(): void {
    if (this.expectSeq === undefined || !this.codec) return;
    if (this.paused) {
      // After a pause the first packet is not played at the next tick with nothing behind it (any
      // jitter would then drop the following ones as late): the buffer fills to its target first.
      if (!this.jitterBuf.hasFrom(this.expectSeq)) return;
      if (++this.primed < JITTER_TARGET) return;
      this.paused = false;
      this.primed = 0;
    }
    const len = this.jitterBuf.take(this.expectSeq);
    let frame: Int16Array;
    if (len >= 0) {
      const n = this.codec.decodeInto(this.jitterBuf.slotOf(this.expectSeq), 0, len, this.playPcm);
      // a peer with another packet time: a frame of its own length (allocates; 20 ms is the norm)
      frame = n === this.playPcm.length ? this.playPcm : this.playPcm.length >= n ? this.playPcm.subarray(0, n) : this.codec.decode(this.jitterBuf.slotOf(this.expectSeq).subarray(0, len));
      if (frame.length === this.lastPcm.length) {
        this.lastPcm.set(frame);
        this.hasLast = true;
      }
      this.concealRun = 0;
    } else if (this.concealRun > 5 && !this.jitterBuf.hasFrom(this.expectSeq)) {
      this.paused = true;
      return; // the peer is silent (hold, end of talk): do not advance
    } else {
      // Loss concealment: repeat the last frame, fading out over 3 frames.
      this.concealRun++;
      this.concealed++;
      const g = Math.max(0, 1 - this.concealRun / 3);
      frame = this.concealPcm;
      if (this.hasLast && g > 0) for (let i = 0; i < frame.length; i++) frame[i] = this.lastPcm[i]! * g;
      else frame.fill(0);
    }
    this.expectSeq = (this.expectSeq + 1) & 0xffff;
    this.channel?.write(frame);
  }

  private receiveDtmf(ts: number, payload: Buffer): void {
    const e = parseDtmf(payload);
    if (!e || e.event >= DTMF_CHARS.length) return;
    // One report per event: the first packet of a new (timestamp, event) pair.
    if (this.lastDtmf && this.lastDtmf.ts === ts && this.lastDtmf.event === e.event) return;
    this.lastDtmf = { ts, event: e.event };
    this.onEvent({ type: 'dtmf', digit: DTMF_CHARS[e.event]! });
  }

  /** From the packet in this.hdr (read there, not passed: a 32-bit timestamp argument would be boxed per packet). */
  private updateStats(arrivalMs: number): void {
    const seq = this.hdr.seq;
    const ts = this.hdr.timestamp;
    if (this.baseSeq === undefined) {
      this.baseSeq = seq;
      this.maxSeq = seq;
    } else {
      const delta = (seq - this.maxSeq + 0x10000) & 0xffff;
      if (delta < 0x8000) {
        if (seq < this.maxSeq) this.cycles += 0x10000;
        this.maxSeq = seq;
      }
    }
    const clock = 8000; // RTP clock of every codec we carry
    const arrival = (arrivalMs / 1000) * clock;
    const transit = arrival - ts;
    if (!Number.isNaN(this.lastTransit)) {
      const d = Math.abs(transit - this.lastTransit);
      if (d < clock) this.jitter += (d - this.jitter) / 16;
    }
    this.lastTransit = transit;
  }

  stats(): RtpStats {
    const expected = this.baseSeq === undefined ? 0 : this.cycles + this.maxSeq - this.baseSeq + 1;
    const lost = Math.max(0, expected - this.received);
    return {
      codec: this.codec?.name ?? 'none',
      packetsSent: this.sent,
      packetsReceived: this.received,
      packetsLost: lost,
      lossPct: expected ? Math.round((lost / expected) * 10000) / 100 : 0,
      jitterMs: Math.round((this.jitter / 8) * 100) / 100,
      concealedFrames: this.concealed,
      packetsRejected: this.rejected,
      remote: this.remote ? `${this.remote.host}:${this.remote.port}` : undefined,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const remove of this.clockTasks) remove();
    this.unsubscribeMic?.();
    void this.micLease?.release();
    this.micResampler?.destroy();
    this.channel?.end();
    this.onEvent({ type: 'stats', stats: this.stats() });
    this.sock?.close();
  }
}

/** What a receive-only stream may do of a negotiated direction: receive, never send. */
function receiving(d: Direction): Direction {
  return d === 'sendrecv' || d === 'recvonly' ? 'recvonly' : 'inactive';
}
