// Where a SIP message goes, for transports without a connection of their own
// to the peer (UDP; TCP/TLS when opening one): responses go back to where the
// request came from (RFC 3261 18.2.2 with rport, RFC 3581); requests go to the
// outbound proxy when there is one, else to the first Route (loose routing),
// else to the Request-URI.
export interface Address {
  host: string;
  port: number;
}

/**
 * How a message reached us: the flow it came over, never what it says about
 * itself. Trust decisions (src/intercom/trust.ts) are made from this.
 */
export interface Arrival extends Address {
  transport: 'udp' | 'tcp' | 'tls' | 'ws';
  /** TLS: SHA-256 (hex, lower case) of the peer's certificate (DER), when it presented one */
  peerCertSha256?: string;
  /** TCP/TLS: the connection is one the kiosk opened itself, to this address */
  dialed?: boolean;
}

const FIRST_LINE = /^([^\r\n]*)\r?\n/;

export function isResponse(message: string): boolean {
  return message.startsWith('SIP/2.0 ');
}

/** The first header of `names` (lower case), line by line in place: every request we send passes here. */
function header(message: string, names: string[]): string | undefined {
  const blank = message.search(/\r?\n\r?\n/);
  const end = blank < 0 ? message.length : blank;
  for (let pos = 0; pos <= end; ) {
    let eol = message.indexOf('\n', pos);
    if (eol < 0 || eol > end) eol = end;
    const i = message.indexOf(':', pos);
    if (i >= 0 && i < eol && names.includes(message.slice(pos, i).trim().toLowerCase())) return message.slice(i + 1, eol).trim();
    pos = eol + 1;
  }
  return undefined;
}

/** The branch of the top Via: the key that ties a response to its request. */
export function topViaBranch(message: string): string | undefined {
  const via = header(message, ['via', 'v']);
  return via ? /;\s*branch=([^;,\s]+)/i.exec(via)?.[1] : undefined;
}

export function parseSipUriAddress(uri: string, defaultPort: number): Address | undefined {
  const m = /^<?sips?:(?:[^@>]*@)?(\[[^\]]+\]|[^:;>?]+)(?::(\d+))?/i.exec(uri.trim());
  if (!m) return undefined;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: m[2] ? Number(m[2]) : defaultPort };
}

/** The next hop of a request. */
export function requestTarget(message: string, outbound: Address | undefined, defaultPort: number): Address | undefined {
  if (outbound) return outbound;
  const route = header(message, ['route']);
  if (route) {
    const first = route.split(',')[0]!;
    const a = parseSipUriAddress(first.replace(/^[^<]*</, '<'), defaultPort);
    if (a) return a;
  }
  const line = FIRST_LINE.exec(message)?.[1] ?? '';
  const ruri = line.split(' ')[1];
  return ruri ? parseSipUriAddress(ruri, defaultPort) : undefined;
}

/**
 * A private copy of a short string cut from a received message. A substring in
 * V8 can keep its whole parent alive: a branch kept as a key would hold its
 * datagram (up to 64 KB) for as long as the entry lives.
 */
export function ownCopy(s: string): string {
  return (' ' + s).slice(1);
}

/** Two generations of a map: O(1) per entry, at most 2 * `cap` entries, each kept `maxAgeMs` or until 2 * `cap` newer ones came. */
class Generations<V> {
  private young = new Map<string, V>();
  private old = new Map<string, V>();
  private since = Date.now();
  constructor(
    private readonly cap: number,
    private readonly maxAgeMs: number,
  ) {}
  set(key: string, value: V): void {
    if (this.young.size >= this.cap || Date.now() - this.since > this.maxAgeMs) {
      this.old = this.young;
      this.young = new Map();
      this.since = Date.now();
    }
    this.young.set(key, value);
  }
  get(key: string): V | undefined {
    return this.young.get(key) ?? this.old.get(key);
  }
  get size(): number {
    return this.young.size + this.old.size;
  }
}

/**
 * Remembers where received messages came from: requests by branch, so their
 * responses go back there and the intercom can tell how a call arrived;
 * responses too (by branch), so it can tell where an answer came from.
 *
 * Bounded, so a flood of datagrams costs neither memory nor a scan per message:
 * an entry lives 32 to 64 s (a transaction lives 64*T1 = 32 s) unless 2 * 2048
 * newer messages came first. INVITEs have their own smaller store, so a flood of
 * other requests or responses cannot push out the route of a call that is
 * still ringing (its 200 OK goes back along it).
 */
export class ResponseRoutes {
  static readonly CAP = 2048;
  static readonly INVITE_CAP = 256;
  private readonly others = new Generations<Arrival>(ResponseRoutes.CAP, 32_000);
  private readonly invites = new Generations<Arrival>(ResponseRoutes.INVITE_CAP, 32_000);
  remember(message: string, from: Arrival): void {
    const b = topViaBranch(message);
    if (!b) return;
    if (isResponse(message)) this.others.set(ownCopy(`response ${b}`), from);
    else (message.startsWith('INVITE ') ? this.invites : this.others).set(ownCopy(b), from);
  }
  lookup(message: string): Address | undefined {
    const b = topViaBranch(message);
    return b ? this.request(b) : undefined;
  }
  /** How the request with this branch arrived. */
  request(branch: string): Arrival | undefined {
    return this.invites.get(branch) ?? this.others.get(branch);
  }
  /** How the latest response to our request with this branch arrived. */
  response(branch: string): Arrival | undefined {
    return this.others.get(`response ${branch}`);
  }
  /** Entries held (tests). */
  get size(): number {
    return this.others.size + this.invites.size;
  }
}
