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
 * Remembers where received messages came from: requests by branch, so their
 * responses go back there and the intercom can tell how a call arrived;
 * responses too (by branch), so it can tell where an answer came from.
 */
export class ResponseRoutes {
  private readonly byBranch = new Map<string, { addr: Arrival; at: number }>();
  remember(message: string, from: Arrival): void {
    const b = topViaBranch(message);
    if (!b) return;
    this.byBranch.set(isResponse(message) ? `response ${b}` : b, { addr: from, at: Date.now() });
    if (this.byBranch.size > 2000) this.prune();
  }
  lookup(message: string): Address | undefined {
    const b = topViaBranch(message);
    return b ? this.byBranch.get(b)?.addr : undefined;
  }
  /** How the request with this branch arrived. */
  request(branch: string): Arrival | undefined {
    return this.byBranch.get(branch)?.addr;
  }
  /** How the latest response to our request with this branch arrived. */
  response(branch: string): Arrival | undefined {
    return this.byBranch.get(`response ${branch}`)?.addr;
  }
  private prune(): void {
    const old = Date.now() - 64_000; // transaction lifetime (64*T1)
    for (const [k, v] of this.byBranch) if (v.at < old) this.byBranch.delete(k);
  }
}
