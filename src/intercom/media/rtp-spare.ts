// One RTP socket bound ahead of the next call, so an outgoing call's SDP
// offer never waits for a bind (and an incoming call's answer neither): the
// press goes straight to the INVITE. The call that takes the spare keeps it
// as its own socket (closed with the call); a new spare is bound a moment
// later, off the set-up path. Without a spare (the bind failed, or two calls
// came close together) a call binds its own socket as before, with the same
// errors, so the emergency path does not depend on the spare.
import dgram from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';
import { randomInt } from 'node:crypto';
import { evenPorts, rtpRangeProblem } from './rtp-ports.js';

/** the IP literal last answered, and its family */
const lastLiteral = { host: '', family: 0 };

/**
 * dgram resolves every destination, even an IP literal, through dns.lookup,
 * which answers on the next tick: a nextTick and two closures per packet sent.
 * RTP goes to the addresses of the SDP or of the latched peer (literals): they
 * are answered at once; a name still goes through dns.lookup.
 */
export const literalLookup = ((host: string, opts: unknown, cb: (err: Error | null, address: string, family: number) => void) => {
  // a call sends to one address 50 times a second: the last literal is known without isIP's regular expression
  if (host === lastLiteral.host) return cb(null, host, lastLiteral.family);
  const family = isIP(host);
  if (family) {
    lastLiteral.host = host;
    lastLiteral.family = family;
    return cb(null, host, family);
  }
  return (dnsLookup as (h: string, o: unknown, c: typeof cb) => void)(host, opts, cb);
}) as unknown as typeof dnsLookup;

/** A UDP socket for RTP: not connected to the peer (packets from others must still arrive, to be counted and dropped). */
export function rtpSocket(): dgram.Socket {
  return dgram.createSocket({ type: 'udp4', lookup: literalLookup });
}

/** Binds `socket` to `host` on a random even port of `range` (RFC 3550 11; both ends included), or any port without a range. */
export async function bindRtpSocket(socket: dgram.Socket, host: string, range?: { min: number; max: number }): Promise<number> {
  const tryBind = (port: number) =>
    new Promise<boolean>((resolve) => {
      const onErr = () => resolve(false);
      socket.once('error', onErr);
      socket.bind(port, host, () => {
        socket.off('error', onErr);
        resolve(true);
      });
    });
  if (range) {
    const problem = rtpRangeProblem(range);
    if (problem) throw new Error(`RTP port range ${problem}`);
    const { first, count } = evenPorts(range);
    for (let i = 0; i < 50; i++) {
      const p = first + 2 * randomInt(0, count);
      if (await tryBind(p)) return p;
    }
    throw new Error(`no free RTP port in ${range.min}-${range.max}`);
  }
  if (!(await tryBind(0))) throw new Error('cannot bind an RTP socket');
  return socket.address().port;
}

export interface BoundRtpSocket {
  socket: dgram.Socket;
  port: number;
}

/** how long after a spare was taken the next one is bound: after the call's set-up, not inside it */
export const SPARE_REFILL_MS = 500;

export class RtpSpare {
  private spare?: BoundRtpSocket;
  private binding?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private closed = false;
  /** binds made and failed (tests, health) */
  readonly stats = { bound: 0, failed: 0, taken: 0 };

  constructor(
    private readonly host: string,
    private readonly range: { min: number; max: number } | undefined,
    private readonly warn: (msg: string) => void = () => {},
  ) {}

  /** Binds a spare unless one is ready or being bound; resolves once that is done (never rejects). */
  fill(): Promise<void> {
    if (this.closed || this.spare) return Promise.resolve();
    this.binding ??= (async () => {
      const socket = rtpSocket();
      try {
        const port = await bindRtpSocket(socket, this.host, this.range);
        if (this.closed) return void socket.close();
        // Nobody listens until a call takes it: datagrams to it meanwhile are read and dropped.
        socket.on('error', () => {});
        this.spare = { socket, port };
        this.stats.bound++;
      } catch (err) {
        this.stats.failed++;
        try {
          socket.close();
        } catch {
          /* never bound */
        }
        // The next call binds its own socket and reports the same error if it fails too.
        this.warn(`no RTP socket bound ahead of the next call: ${(err as Error).message}`);
      }
    })().finally(() => (this.binding = undefined));
    return this.binding;
  }

  /** The port a call would get now (tests, health). */
  get port(): number | undefined {
    return this.spare?.port;
  }

  /** Hands the spare to a call (now its socket) and binds the next one a little later; undefined when none is ready. */
  take(): BoundRtpSocket | undefined {
    const s = this.spare;
    this.spare = undefined;
    if (!this.closed) {
      // also after a miss: a spare whose bind failed is tried again for the call after this one
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.fill(), SPARE_REFILL_MS);
      this.timer.unref();
    }
    if (!s) return undefined;
    this.stats.taken++;
    s.socket.removeAllListeners('error');
    return s;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    const s = this.spare;
    this.spare = undefined;
    if (s)
      try {
        s.socket.close();
      } catch {
        /* already closed */
      }
  }
}
