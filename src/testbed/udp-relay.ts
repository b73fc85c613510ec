// A UDP relay between a kiosk and one SIP peer (a sipp desk or caller) that
// loses datagrams on purpose: at random with a seeded probability, all of them
// during an outage, or the next ones that match a pattern. Tests of SIP
// reliability over UDP put it on the path and read its log.
//
//   kiosk  <->  kioskSide [relay] peerSide  <->  peer
//
// The kiosk talks to kioskSide as if it were the peer; the peer talks to
// peerSide as if it were the kiosk. A peer's Contact must name kioskSide's
// port for the kiosk's in-dialog requests to come through the relay too (sipp:
// `-set relay_port <kioskSide.port>`; the scenarios in test/sipp/relay-*.xml).
import dgram from 'node:dgram';

export type Direction = 'toPeer' | 'toKiosk';

export interface RelayedDatagram {
  at: number;
  dir: Direction;
  /** the first line, e.g. "INVITE sip:... SIP/2.0" or "SIP/2.0 180 Ringing" */
  line: string;
  /** CSeq method (requests and responses) */
  method: string;
  dropped: boolean;
}

export interface RelayOptions {
  /** the peer's SIP address; learned from its first datagram when not given (a caller) */
  peer?: { host: string; port: number };
  /** the kiosk's SIP address; learned from its first datagram when not given */
  kiosk?: { host: string; port: number };
  /** chance of dropping each datagram, both ways (0..1) */
  dropRate?: number;
  seed?: number;
}

/** mulberry32: a small seeded PRNG, so a lossy run can be repeated. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class UdpRelay {
  readonly kioskSide = dgram.createSocket('udp4');
  readonly peerSide = dgram.createSocket('udp4');
  readonly log: RelayedDatagram[] = [];
  dropRate: number;
  /** while true every datagram is dropped (a network outage) */
  outage = false;
  private kiosk?: { host: string; port: number };
  private peer?: { host: string; port: number };
  private readonly random: () => number;
  private readonly rules: { dir: Direction; match: RegExp; left: number }[] = [];

  constructor(opts: RelayOptions) {
    this.dropRate = opts.dropRate ?? 0;
    this.random = seededRandom(opts.seed ?? 1);
    this.kiosk = opts.kiosk;
    this.peer = opts.peer;
  }

  async start(): Promise<this> {
    await Promise.all([this.kioskSide, this.peerSide].map((s) => new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()))));
    this.kioskSide.on('message', (msg, from) => {
      this.kiosk ??= { host: from.address, port: from.port };
      const p = this.peer;
      if (!p) return;
      this.pass('toPeer', msg, () => this.peerSide.send(msg, p.port, p.host));
    });
    this.peerSide.on('message', (msg, from) => {
      this.peer ??= { host: from.address, port: from.port };
      const k = this.kiosk;
      if (!k) return;
      this.pass('toKiosk', msg, () => this.kioskSide.send(msg, k.port, k.host));
    });
    return this;
  }

  /** The address the kiosk should call (the peer, as seen through the relay). */
  get kioskSidePort(): number {
    return this.kioskSide.address().port;
  }

  /** The address the peer should send to (the kiosk, as seen through the relay). */
  get peerSidePort(): number {
    return this.peerSide.address().port;
  }


  /** Drops the next `count` datagrams going `dir` whose text matches. */
  dropNext(dir: Direction, match: RegExp, count = 1): void {
    this.rules.push({ dir, match, left: count });
  }

  private pass(dir: Direction, msg: Buffer, forward: () => void): void {
    const text = msg.toString('latin1');
    const line = text.slice(0, Math.max(0, text.indexOf('\r\n'))) || text.slice(0, 80);
    const method = /\r\nCSeq:\s*\d+\s+([A-Z]+)/i.exec(text)?.[1]?.toUpperCase() ?? '';
    let dropped = this.outage;
    if (!dropped) {
      const rule = this.rules.find((r) => r.dir === dir && r.left > 0 && r.match.test(text));
      if (rule) {
        rule.left--;
        dropped = true;
      }
    }
    // The random draw is taken for every datagram, dropped or not, so the
    // sequence of decisions depends only on the seed and the traffic.
    const draw = this.random();
    if (!dropped && draw < this.dropRate) dropped = true;
    this.log.push({ at: performance.now(), dir, line, method, dropped });
    if (!dropped) forward();
  }

  /** Datagrams seen going `dir` whose first line matches (and CSeq method, when given); dropped ones too unless `delivered`. */
  seen(f: { dir: Direction; line: RegExp; method?: string; delivered?: boolean }): RelayedDatagram[] {
    return this.log.filter((d) => d.dir === f.dir && f.line.test(d.line) && (!f.method || d.method === f.method) && (!f.delivered || !d.dropped));
  }

  close(): void {
    this.kioskSide.close();
    this.peerSide.close();
  }
}
