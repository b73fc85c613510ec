// The SIP servers' certificates as the kiosk last saw them. The kiosk has no
// file of the server's certificate: it sees it only when its transport dials
// the server over TLS and the certificate passes the checks (tls-verify.ts).
// Each such connection records the certificate's subject and end date, by the
// address dialled; a later connection replaces the record (a renewed
// certificate clears the warning). The tls-certificate fault
// (tls-expiry.ts) reads them beside the kiosk's own files, at each record and
// at its twice-a-day check, so a kiosk connected for weeks still warns.
import { X509Certificate } from 'node:crypto';
import type { KioskConfig } from '../config/schema/kiosk.js';
import { parseSipUriAddress, type Address } from './transports/routing.js';

export interface ServerCert {
  /** the address dialled, host:port (an IPv6 host in brackets) */
  peer: string;
  subject: string;
  validTo: Date;
}

export class ServerCertificates {
  private readonly seen = new Map<string, ServerCert>();
  /** called after each record (the expiry watch re-checks) */
  onChange?: () => void;

  /** A verified TLS connection to `peer` showed this certificate (DER). */
  record(peer: Address, raw: Buffer): void {
    const c = new X509Certificate(raw);
    const host = peer.host.includes(':') ? `[${peer.host}]` : peer.host;
    const key = `${host}:${peer.port}`;
    this.seen.set(key, { peer: key, subject: c.subject.replace(/\n/g, ', '), validTo: new Date(c.validTo) });
    this.onChange?.();
  }

  /** Forgets them all: a new user agent (other servers, or none over TLS) records its own. */
  clear(): void {
    this.seen.clear();
  }

  list(): ServerCert[] {
    return [...this.seen.values()];
  }
}

/** How the fault names a server: its registrar's URI when the address is a registrar's, else the address. */
export function serverName(peer: string, sip: KioskConfig['sip']): string {
  const reg = sip.account.registrars.find((r) => {
    const a = parseSipUriAddress(r.uri, r.transport === 'tls' ? 5061 : 5060);
    return a && `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}` === peer;
  });
  return reg ? `the SIP server's certificate (registrar ${reg.uri})` : `the SIP server's certificate (${peer})`;
}
