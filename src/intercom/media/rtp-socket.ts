// A call's RTP socket, of one of two kinds behind one interface:
//   'poll'  the addon's UdpSocket (native/dsp/src/udp-socket.cc), read on the
//           media clock's 20 ms tick, the one that plays the packets anyway.
//           Nothing runs per received packet between ticks: no libuv callback,
//           no Buffer or rinfo object per packet. The kernel's arrival time
//           comes with each packet, so jitter figures stay exact. The kiosk's
//           calls use it when the addon loads (a third of a call's CPU).
//   'node'  Node's dgram socket, each packet delivered as it arrives: when the
//           addon is missing, for a host that is not an IPv4 literal, and for
//           the hub's relays (its page gateway forwards each packet at once).
// HELPPOINT_RTP_SOCKET=node|poll overrides the choice (tests, benchmarks).
import dgram from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';
import { constants } from 'node:os';
import { dspOrUndefined, type Dsp } from '../../dsp/native.js';

export type RtpSocketKind = 'poll' | 'node';

/** One received packet: bytes [0, len) of buf (valid until the sink returns), its source, its arrival (performance.now() ms). */
export type RtpPacketSink = (buf: Buffer, len: number, host: string, port: number, arrival: number) => void;

export interface RtpSocket {
  readonly kind: RtpSocketKind;
  /** true once bound; false when the port could not be had (the caller tries another) */
  bind(host: string, port: number): Promise<boolean>;
  localPort(): number;
  /** sends bytes [0, len) without blocking; errors are dropped packets, as with any late RTP */
  send(buf: Uint8Array, port: number, host: string, len?: number): void;
  /** whether every buffer handed to send() is free again (a poll socket's always are) */
  sendQueueEmpty(): boolean;
  /** where received packets go: at once (node), or from poll() */
  listen(sink: RtpPacketSink): void;
  /** reads every waiting packet into the sink (node: nothing to do) */
  poll(now: number): void;
  close(): void;
}

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

/** The kind a kiosk's calls use: HELPPOINT_RTP_SOCKET, else 'poll' when the addon has UdpSocket. */
export function preferredRtpSocketKind(): RtpSocketKind {
  const forced = process.env.HELPPOINT_RTP_SOCKET;
  if (forced === 'node') return 'node';
  if (forced === 'poll' && !dspOrUndefined()?.UdpSocket) throw new Error('HELPPOINT_RTP_SOCKET=poll but the helppoint-dsp addon with UdpSocket is not available');
  return dspOrUndefined()?.UdpSocket ? 'poll' : 'node';
}

/** A socket of `kind` for `host` (a poll socket binds IPv4 literals only: another host gets a node socket). */
export function createRtpSocket(kind: RtpSocketKind = 'node', host?: string): RtpSocket {
  const dsp = kind === 'poll' && (host === undefined || isIP(host) === 4) ? dspOrUndefined() : undefined;
  return dsp?.UdpSocket ? new PollSocket(dsp) : new NodeSocket();
}

class NodeSocket implements RtpSocket {
  readonly kind = 'node' as const;
  /** Not connected to the peer: packets from others must still arrive, to be counted and dropped. */
  readonly socket = dgram.createSocket({ type: 'udp4', lookup: literalLookup });

  constructor() {
    this.socket.on('error', () => {});
  }

  bind(host: string, port: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const onErr = () => resolve(false);
      this.socket.once('error', onErr);
      this.socket.bind(port, host, () => {
        this.socket.off('error', onErr);
        resolve(true);
      });
    });
  }

  localPort(): number {
    return this.socket.address().port;
  }

  send(buf: Uint8Array, port: number, host: string, len = buf.length): void {
    // Sent without a callback (with one, every synchronous send costs a nextTick).
    if (len === buf.length) this.socket.send(buf, port, host);
    else this.socket.send(buf, 0, len, port, host);
  }

  sendQueueEmpty(): boolean {
    return this.socket.getSendQueueCount() === 0;
  }

  listen(sink: RtpPacketSink): void {
    this.socket.on('message', (buf, rinfo) => sink(buf, buf.length, rinfo.address, rinfo.port, performance.now()));
  }

  poll(): void {}

  close(): void {
    try {
      this.socket.close();
    } catch {
      /* never bound, or closed */
    }
  }
}

const EAGAIN = -constants.errno.EAGAIN;
const EWOULDBLOCK = -constants.errno.EWOULDBLOCK;
/** packets read in one poll at most: a flood waits in the kernel's buffer (and is dropped there) instead of holding the tick */
const MAX_PER_POLL = 64;

class PollSocket implements RtpSocket {
  readonly kind = 'poll' as const;
  private readonly udp: InstanceType<Dsp['UdpSocket']>;
  /** one reused receive buffer: a packet is handled before the next is read */
  private readonly rx = Buffer.alloc(2048);
  private readonly meta = new Float64Array(3);
  private sink?: RtpPacketSink;
  private peerHost = '';
  private peerPort = -1;
  /** the last source address as a number and as text: the text is made once per new source, not per packet */
  private lastAddr = -1;
  private lastHost = '';
  /** names (not IPv4 literals) resolved for sending, and those being resolved */
  private readonly resolved = new Map<string, string | null>();
  private closed = false;

  constructor(dsp: Dsp) {
    this.udp = new dsp.UdpSocket();
  }

  async bind(host: string, port: number): Promise<boolean> {
    return this.udp.bind(host, port) === 0;
  }

  localPort(): number {
    const p = this.udp.localPort();
    if (p < 0) throw new Error(`RTP socket has no port (errno ${-p})`);
    return p;
  }

  send(buf: Uint8Array, port: number, host: string, len = buf.length): void {
    if (this.closed) return;
    if (host !== this.peerHost || port !== this.peerPort) {
      const ip = isIP(host) === 4 ? host : this.resolve(host);
      if (!ip) return; // a name not resolved yet (or not at all): dropped, as dgram drops on a failed lookup
      this.udp.setPeer(ip, port);
      this.peerHost = host;
      this.peerPort = port;
    }
    this.udp.send(buf, len);
  }

  /** An SDP may name its host (RFC 4566 allows an FQDN): resolved once, packets dropped until then. */
  private resolve(host: string): string | undefined {
    const known = this.resolved.get(host);
    if (known !== undefined) return known ?? undefined;
    if (!this.resolved.has(host)) {
      this.resolved.set(host, undefined as never);
      dnsLookup(host, { family: 4 }, (err, address) => this.resolved.set(host, err ? null : address));
    }
    return undefined;
  }

  sendQueueEmpty(): boolean {
    return true;
  }

  listen(sink: RtpPacketSink): void {
    this.sink = sink;
  }

  poll(now: number): void {
    const sink = this.sink;
    if (this.closed) return;
    const meta = this.meta;
    for (let i = 0; i < MAX_PER_POLL; i++) {
      const n = this.udp.recv(this.rx, meta);
      if (n === EAGAIN || n === EWOULDBLOCK) return;
      if (n < 0) continue; // too long for any RTP packet we take (-EMSGSIZE), or a transient error: next packet
      if (!sink) continue;
      const addr = meta[0]!;
      if (addr !== this.lastAddr) {
        this.lastAddr = addr;
        this.lastHost = `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
      }
      sink(this.rx, n, this.lastHost, meta[1]!, now - meta[2]!);
      if (this.closed) return;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.udp.close();
  }
}
