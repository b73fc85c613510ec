// One RTP socket bound ahead of the next call, so an outgoing call's SDP
// offer never waits for a bind (and an incoming call's answer neither): the
// press goes straight to the INVITE. The call that takes the spare keeps it
// as its own socket (closed with the call); a new spare is bound a moment
// later, off the set-up path. Without a spare (the bind failed, or two calls
// came close together) a call binds its own socket as before, with the same
// errors, so the emergency path does not depend on the spare.
import { randomInt } from 'node:crypto';
import { evenPorts, rtpRangeProblem } from './rtp-ports.js';
import { createRtpSocket, type RtpSocket, type RtpSocketKind } from './rtp-socket.js';

/** A socket for RTP (rtp-socket.ts): not connected to the peer (packets from others must still arrive, to be counted and dropped). */
export function rtpSocket(kind: RtpSocketKind = 'node', host?: string): RtpSocket {
  return createRtpSocket(kind, host);
}

/** Binds `socket` to `host` on a random even port of `range` (RFC 3550 11; both ends included), or any port without a range. */
export async function bindRtpSocket(socket: RtpSocket, host: string, range?: { min: number; max: number }): Promise<number> {
  const tryBind = (port: number) => socket.bind(host, port);
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
  return socket.localPort();
}

export interface BoundRtpSocket {
  socket: RtpSocket;
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
    /** the kind of socket bound (rtp-socket.ts): the kiosk's calls take 'poll' when the addon has it */
    private readonly kind: RtpSocketKind = 'node',
  ) {}

  /** Binds a spare unless one is ready or being bound; resolves once that is done (never rejects). */
  fill(): Promise<void> {
    if (this.closed || this.spare) return Promise.resolve();
    this.binding ??= (async () => {
      const socket = rtpSocket(this.kind, this.host);
      try {
        const port = await bindRtpSocket(socket, this.host, this.range);
        // Nobody listens until a call takes it: datagrams to it meanwhile are dropped (a poll socket's wait in its
        // buffer and are read, from a stranger, counted and dropped by the call).
        if (this.closed) return void socket.close();
        this.spare = { socket, port };
        this.stats.bound++;
      } catch (err) {
        this.stats.failed++;
        socket.close();
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
    return s;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    const s = this.spare;
    this.spare = undefined;
    s?.socket.close();
  }
}
