// RFC 3261 reliability over UDP, for the parts sip.js leaves out. sip.js 0.21
// runs its transactions as if every transport were reliable: its INVITE client
// transaction has no Timer A, the non-INVITE one no Timer E, the INVITE server
// transaction no Timer G, and Timers D, I, J and K are zero. Over UDP one lost
// datagram then costs a whole ring timeout. This layer sits in the UDP
// transport, sees every SIP message that leaves or arrives, and adds:
//
//   Timer A  INVITE requests again after T1, 2*T1, 4*T1 ... until any response
//            (capped at `inviteMaxIntervalMs`, see below), for at most Timer B = 64*T1;
//   Timer E  other requests (BYE, CANCEL, INFO, REGISTER, OPTIONS ...) again
//            after T1 doubling up to T2, every T2 once a provisional response
//            came, until a final response, for at most Timer F = 64*T1;
//   Timer G  our non-2xx final responses to an INVITE again after T1 doubling
//            up to T2, until the ACK, for at most Timer H = 64*T1;
//   Timer J  a retransmitted non-INVITE request that we already answered gets
//            the same final response again (sip.js would start a new transaction
//            and answer a retransmitted BYE with 481);
//   Timer D  a retransmitted non-2xx final response to our INVITE gets our ACK
//            again (the peer's Timer G never stops otherwise).
//
// 2xx responses to INVITE are retransmitted until the ACK by sip.js's dialog
// (RFC 6026), and retransmitted 2xx get their ACK again from its INVITE client
// transaction: this layer leaves both alone.
//
// Deviation from RFC 3261 17.1.1.2, on purpose: Timer A doubles without limit,
// so within Timer B an INVITE leaves at 0, 0.5, 1.5, 3.5, 7.5, 15.5 and 31.5 s
// and a network that returns after 8 s waits up to 16 s for the next one. An
// emergency call should not: the interval is capped (default T2 = 4 s, so
// retransmissions at 0.5, 1.5, 3.5, 7.5, 11.5 ... 31.5 s). A cap of 32000 gives
// the RFC's schedule exactly.
import { Core } from 'sip.js';
import type { Address } from './routing.js';

const { Timers } = Core;

export interface ReliabilityOptions {
  /** longest interval between two INVITE retransmissions (ms) */
  inviteMaxIntervalMs?: number;
  /**
   * Is sip.js's transaction for this request still there? A request whose
   * transaction is gone (terminated, disposed) is not sent again.
   */
  clientAlive?: (branch: string, method: string) => boolean;
  /** at most this many responses are retransmitted at once (Timer G), so a flood of bad INVITEs cannot make us a reflector */
  maxServerRetransmits?: number;
  /** at most this many final responses are kept for retransmitted requests (Timer J) */
  maxCachedResponses?: number;
}

/** Counters, for health and tests. */
export interface ReliabilityStats {
  requestRetransmits: number;
  responseRetransmits: number;
  absorbedRequests: number;
  ackResends: number;
  timeouts: number;
}

interface Retransmit {
  message: string;
  dest: Address;
  interval: number;
  max: number;
  deadline: number;
  timer?: NodeJS.Timeout;
  branch: string;
  method: string;
}

interface Cached {
  message: string;
  dest: Address;
  until: number;
}

/** The parts of a SIP message this layer needs, read without a full parse. */
export interface SipHead {
  response: boolean;
  /** request method, or the CSeq method of a response */
  method: string;
  status: number;
  branch: string;
}

export function readHead(message: string): SipHead | undefined {
  const eol = message.indexOf('\n');
  const first = (eol < 0 ? message : message.slice(0, eol)).trim();
  const headEnd = message.search(/\r?\n\r?\n/);
  const head = headEnd < 0 ? message : message.slice(0, headEnd);
  const branch = /^(?:via|v)[ \t]*:[^\r\n]*?;[ \t]*branch=([^;,\s]+)/im.exec(head)?.[1];
  const cseq = /^cseq[ \t]*:[ \t]*\d+[ \t]+([A-Za-z]+)/im.exec(head)?.[1];
  if (!branch || !cseq) return undefined;
  if (first.startsWith('SIP/2.0 ')) {
    const status = Number(first.slice(8, 11));
    if (!(status >= 100 && status <= 699)) return undefined;
    return { response: true, method: cseq.toUpperCase(), status, branch };
  }
  const method = /^([A-Za-z]+) /.exec(first)?.[1]?.toUpperCase();
  if (!method) return undefined;
  return { response: false, method, status: 0, branch };
}

export class UdpReliability {
  readonly stats: ReliabilityStats = { requestRetransmits: 0, responseRetransmits: 0, absorbedRequests: 0, ackResends: 0, timeouts: 0 };
  /** our requests awaiting a response, by branch + method (CANCEL shares its INVITE's branch) */
  private readonly requests = new Map<string, Retransmit>();
  /** our non-2xx final responses to INVITEs awaiting the ACK, by branch */
  private readonly finals = new Map<string, Retransmit>();
  /** our final responses to non-INVITE requests, for their retransmissions, by branch + method */
  private readonly answered = new Map<string, Cached>();
  /** our ACKs to non-2xx final responses, for retransmitted finals, by branch */
  private readonly acks = new Map<string, Cached>();
  private readonly inviteMax: number;
  private sweepTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly send: (message: string, dest: Address) => void,
    private readonly opts: ReliabilityOptions = {},
  ) {
    this.inviteMax = Math.max(Timers.T1, Math.min(opts.inviteMaxIntervalMs ?? Timers.T2, Timers.TIMER_B));
  }

  /** Call with every message the transport has just sent. */
  sent(message: string, dest: Address): void {
    if (this.closed) return;
    const h = readHead(message);
    if (!h) return;
    const now = Date.now();
    if (!h.response) {
      if (h.method === 'ACK') {
        // The ACK to a non-2xx final keeps its INVITE's branch (an ACK to a 2xx has a branch of its own).
        const waiting = this.acks.get(h.branch);
        if (waiting) Object.assign(waiting, { message, dest });
        return;
      }
      const k = key(h.branch, h.method);
      if (this.requests.has(k)) return; // sip.js sending the same request again: one schedule
      const invite = h.method === 'INVITE';
      this.arm(this.requests, k, { message, dest, branch: h.branch, method: h.method, interval: Timers.T1, max: invite ? this.inviteMax : Timers.T2, deadline: now + Timers.TIMER_B });
      return;
    }
    if (h.status < 200) return; // provisional responses are re-sent by sip.js when the request is
    if (h.method === 'INVITE') {
      if (h.status < 300) return; // 2xx: sip.js's dialog retransmits it until the ACK
      if (this.finals.has(h.branch)) return;
      if (this.finals.size >= (this.opts.maxServerRetransmits ?? 256)) return; // sent once; the peer's INVITE retransmission gets it again from sip.js
      this.arm(this.finals, h.branch, { message, dest, branch: h.branch, method: h.method, interval: Timers.T1, max: Timers.T2, deadline: now + Timers.TIMER_H });
      return;
    }
    if (this.answered.size >= (this.opts.maxCachedResponses ?? 4096)) this.sweep(true);
    this.answered.set(key(h.branch, h.method), { message, dest, until: now + Timers.TIMER_F });
    this.sweepSoon();
  }

  /**
   * Call with every message that arrived. Returns false when this layer has
   * handled it (a retransmission answered from the cache) and sip.js should
   * not see it.
   */
  received(message: string): boolean {
    if (this.closed) return true;
    const h = readHead(message);
    if (!h) return true;
    if (h.response) {
      const k = key(h.branch, h.method);
      const pending = this.requests.get(k);
      if (pending) {
        if (h.status >= 200 || h.method === 'INVITE') this.stop(this.requests, k);
        else if (pending.interval < Timers.T2) {
          // Non-INVITE in "Proceeding": go on every T2 (RFC 3261 17.1.2.2).
          clearTimeout(pending.timer);
          pending.interval = Timers.T2;
          this.schedule(this.requests, k, pending);
        }
        return true;
      }
      if (h.method === 'INVITE' && h.status >= 300) {
        const ack = this.acks.get(h.branch);
        if (ack?.message && ack.until > Date.now()) {
          this.stats.ackResends++;
          this.send(ack.message, ack.dest);
          return false; // sip.js's transaction is gone (its Timer D is 0) and would only log it
        }
        // The first final: sip.js answers it with an ACK at once (sent() keeps it for Timer D).
        if (!ack && this.acks.size < (this.opts.maxCachedResponses ?? 4096)) {
          this.acks.set(h.branch, { message: '', dest: { host: '', port: 0 }, until: Date.now() + Timers.TIMER_B });
          this.sweepSoon();
        }
      }
      return true;
    }
    if (h.method === 'ACK') {
      this.stop(this.finals, h.branch);
      return true;
    }
    const done = this.answered.get(key(h.branch, h.method));
    if (done && done.until > Date.now()) {
      this.stats.absorbedRequests++;
      this.send(done.message, done.dest);
      return false;
    }
    return true;
  }

  private arm(map: Map<string, Retransmit>, k: string, r: Retransmit): void {
    map.set(k, r);
    this.schedule(map, k, r);
  }

  private schedule(map: Map<string, Retransmit>, k: string, r: Retransmit): void {
    const wait = Math.min(r.interval, r.deadline - Date.now());
    if (wait <= 0) return this.expire(map, k);
    r.timer = setTimeout(() => this.fire(map, k, r), wait);
    r.timer.unref?.();
  }

  private fire(map: Map<string, Retransmit>, k: string, r: Retransmit): void {
    if (this.closed || map.get(k) !== r) return;
    if (Date.now() >= r.deadline) return this.expire(map, k);
    if (map === this.requests && this.opts.clientAlive && !this.opts.clientAlive(r.branch, r.method)) {
      map.delete(k); // sip.js gave the transaction up: nothing to retransmit for
      return;
    }
    if (map === this.requests) this.stats.requestRetransmits++;
    else this.stats.responseRetransmits++;
    this.send(r.message, r.dest);
    r.interval = Math.min(r.interval * 2, r.max);
    this.schedule(map, k, r);
  }

  private expire(map: Map<string, Retransmit>, k: string): void {
    // Timer B/F/H: sip.js runs the same timers and reports the timeout (408) itself.
    this.stats.timeouts++;
    this.stop(map, k);
  }

  private stop(map: Map<string, Retransmit>, k: string): void {
    const r = map.get(k);
    if (!r) return;
    clearTimeout(r.timer);
    map.delete(k);
  }

  /** Drops expired cache entries now and then (and at once when the cache is full). */
  private sweepSoon(): void {
    if (this.sweepTimer || this.closed) return;
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      this.sweep(false);
      if (this.answered.size || this.acks.size) this.sweepSoon();
    }, Timers.T2);
    this.sweepTimer.unref?.();
  }

  private sweep(full: boolean): void {
    const now = Date.now();
    for (const m of [this.answered, this.acks]) for (const [k, v] of m) if (v.until <= now) m.delete(k);
    if (full) {
      // Still full: the oldest go first (Map keeps insertion order).
      const over = this.answered.size - Math.floor((this.opts.maxCachedResponses ?? 4096) * 0.9);
      let i = 0;
      for (const k of this.answered.keys()) if (i++ < over) this.answered.delete(k);
    }
  }

  /** How much is pending, for tests and health. */
  pending(): { requests: number; responses: number; cached: number } {
    return { requests: this.requests.size, responses: this.finals.size, cached: this.answered.size + this.acks.size };
  }

  close(): void {
    this.closed = true;
    for (const m of [this.requests, this.finals]) {
      for (const r of m.values()) clearTimeout(r.timer);
      m.clear();
    }
    this.answered.clear();
    this.acks.clear();
    clearTimeout(this.sweepTimer);
  }
}

function key(branch: string, method: string): string {
  return `${branch} ${method}`;
}
