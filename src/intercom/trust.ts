// Which calls may act on the kiosk without a person at it: open the
// microphone by auto-answer, or pulse the door relay with the desk's DTMF.
// A call is trusted only by how it arrived, never by what it says about
// itself (its From header, a display name, a body):
//
//   - from the registrar/proxy the kiosk is registered with: the source
//     address and port of the flow (UDP) or the connection the kiosk opened to
//     it (TCP, TLS, WebSocket);
//   - from an address in `sip.trustedSources` (CIDR, address, or address:port);
//   - over TLS from a peer whose certificate is pinned in `sip.trustedTlsPeers`;
//   - or it is the kiosk's own call (placed by the call policy to a configured
//     desk).
//
// `isTrustedCall` is the one predicate the rest of the intercom asks; the
// alarm adds "or the alarm's own call" there.
import { BlockList, isIP } from 'node:net';
import type { KioskConfig } from '../config/schema/kiosk.js';
import type { Address, Arrival } from './transports/routing.js';

export type TrustReason = 'registrar' | 'trusted-source' | 'tls-pin' | 'own-call';

export interface Trust {
  trusted: boolean;
  /** why it is trusted */
  reason?: TrustReason;
  /** how it arrived, for logs: "udp:10.0.0.5:5060" */
  via: string;
}

/** A call's trust as the intercom keeps it. */
export interface TrustedCall {
  trust: Trust;
}

/**
 * May this call auto-answer (open the microphone unasked) and pulse the door?
 * The one place that decides; extend it here, not at the call sites.
 */
export function isTrustedCall(call: TrustedCall): boolean {
  return call.trust.trusted;
}

export const OWN_CALL: Trust = { trusted: true, reason: 'own-call', via: 'placed by the kiosk' };

export function describeArrival(a: Arrival | undefined): string {
  if (!a) return 'unknown';
  const host = a.host.includes(':') ? `[${a.host}]` : a.host;
  return `${a.transport}:${host}:${a.port}`;
}

interface Sources {
  any: BlockList;
  exact: Set<string>;
}

/** Parses `sip.trustedSources`: "10.0.0.0/24", "10.0.0.5", "10.0.0.5:5060", "fd00::/64", "[fd00::5]:5060". */
export function parseSources(entries: string[], warn: (msg: string) => void = () => {}): Sources {
  const any = new BlockList();
  const exact = new Set<string>();
  for (const raw of entries) {
    const e = raw.trim();
    const cidr = /^([^/]+)\/(\d{1,3})$/.exec(e);
    const v6port = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(e);
    const v4port = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(e);
    if (cidr && isIP(cidr[1]!)) {
      const type = isIP(cidr[1]!) === 6 ? 'ipv6' : 'ipv4';
      const prefix = Number(cidr[2]);
      if (prefix > (type === 'ipv6' ? 128 : 32)) warn(`sip.trustedSources: bad prefix in "${e}"; ignored`);
      else any.addSubnet(cidr[1]!, prefix, type);
    } else if (v6port && isIP(v6port[1]!) === 6) exact.add(`${v6port[1]!.toLowerCase()}|${Number(v6port[2])}`);
    else if (v4port && isIP(v4port[1]!) === 4) exact.add(`${v4port[1]}|${Number(v4port[2])}`);
    else if (isIP(e)) any.addAddress(e, isIP(e) === 6 ? 'ipv6' : 'ipv4');
    else warn(`sip.trustedSources: "${e}" is not an address, address:port or CIDR; ignored`);
  }
  return { any, exact };
}

/** Normalises an IPv4-mapped IPv6 address ("::ffff:10.0.0.5") to IPv4. */
function plain(host: string): string {
  return host.startsWith('::ffff:') && isIP(host.slice(7)) === 4 ? host.slice(7) : host.toLowerCase();
}

export class TrustPolicy {
  private cache?: { entries: string[]; sources: Sources };

  constructor(
    private readonly sip: () => KioskConfig['sip'],
    /** the registrars/proxies the kiosk is registered with now (resolved addresses) */
    private readonly registrars: () => Address[],
    private readonly warn: (msg: string) => void = () => {},
  ) {}

  private sources(): Sources {
    const entries = this.sip().trustedSources;
    if (this.cache?.entries !== entries) this.cache = { entries, sources: parseSources(entries, this.warn) };
    return this.cache.sources;
  }

  /** How far a message that arrived this way is trusted. */
  ofArrival(a: Arrival | undefined): Trust {
    const via = describeArrival(a);
    if (!a) return { trusted: false, via };
    const host = plain(a.host);
    const type = isIP(host) === 6 ? 'ipv6' : 'ipv4';
    // sip.js's own WebSocket transport has one connection, the one the kiosk opened to its registrar.
    if (a.transport === 'ws') return a.dialed && this.registrars().length > 0 ? { trusted: true, reason: 'registrar', via } : { trusted: false, via };
    for (const r of this.registrars()) {
      const sameHost = plain(r.host) === host;
      // UDP: the registrar's own address and port. TCP/TLS: the connection the kiosk opened to it.
      if (sameHost && r.port === a.port && (a.transport === 'udp' || a.dialed)) return { trusted: true, reason: 'registrar', via };
    }
    const s = this.sources();
    if (isIP(host) && (s.any.check(host, type) || s.exact.has(`${host}|${a.port}`))) return { trusted: true, reason: 'trusted-source', via };
    const pin = a.transport === 'tls' ? a.peerCertSha256 : undefined;
    if (pin && this.sip().trustedTlsPeers.some((p) => p.replace(/:/g, '').toLowerCase() === pin)) return { trusted: true, reason: 'tls-pin', via };
    return { trusted: false, via };
  }
}
