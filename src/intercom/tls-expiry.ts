// The `tls-certificate` fault: the kiosk's own SIP certificate, a site CA
// of `sip.tls` or the certificate a SIP server showed at its last TLS
// connection (tls-server-certs.ts) expires within WARN_DAYS (or has
// expired); the one that lapses first is named. An expired
// certificate fails quietly from the user's side: the SIP server refuses the
// kiosk (or the kiosk the server) and the help point is out of service on the
// day it lapses. Facilities get a month's warning, at the hub like any fault,
// checked at start, at each sip change and twice a day.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { KioskConfig } from '../config/schema/kiosk.js';
import type { Faults } from '../health/faults.js';
import { caList } from './tls-files.js';
import { serverName, type ServerCertificates } from './tls-server-certs.js';

export const WARN_DAYS = 30;
const CHECK_MS = 12 * 3600_000;
const DAY_MS = 86_400_000;

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

interface Lapse {
  what: string;
  subject: string;
  validTo: Date;
  /** a SIP server's certificate (not one of the kiosk's files) */
  server?: boolean;
}

/** The certificate of `sip.tls` that lapses first: what it is, its subject and when. */
export function soonestExpiry(tls: KioskConfig['sip']['tls'], dir: string): Lapse | undefined {
  if (!tls) return undefined;
  const files: [string, string][] = [...(tls.cert ? [['the kiosk certificate', tls.cert] as [string, string]] : []), ...caList(tls).map((f) => ['the site CA', f] as [string, string])];
  let soonest: Lapse | undefined;
  for (const [what, file] of files) {
    let pem: string;
    try {
      pem = readFileSync(path.resolve(dir, file), 'utf8');
    } catch {
      continue; // the config check reports unreadable files
    }
    // A file may hold a chain: the kiosk's own certificate is the first; every CA of a CA file counts.
    const blocks = (pem.match(PEM_CERT) ?? []).slice(0, what === 'the site CA' ? undefined : 1);
    for (const b of blocks) {
      try {
        const c = new X509Certificate(b);
        const validTo = new Date(c.validTo);
        if (!soonest || validTo < soonest.validTo) soonest = { what: `${what} (${file})`, subject: c.subject.replace(/\n/g, ', '), validTo };
      } catch {
        /* the config check reports certificates that do not parse */
      }
    }
  }
  return soonest;
}

/**
 * Raises or clears the fault now, every CHECK_MS and at each server certificate recorded in `servers`; returns the
 * stop. The servers' certificates count only on a kiosk using TLS, like its files.
 */
export function watchTlsExpiry(opts: { faults: Faults; config: () => KioskConfig; configDir: string; servers?: ServerCertificates; now?: () => number; everyMs?: number }): () => void {
  const now = opts.now ?? Date.now;
  const check = () => {
    const sip = opts.config().sip;
    const kind = sip.account.registrars[0]?.transport ?? sip.transport;
    const onTls = kind === 'tls' || !!sip.tls?.cert;
    let s = onTls ? soonestExpiry(sip.tls, opts.configDir) : undefined;
    for (const c of onTls ? (opts.servers?.list() ?? []) : []) {
      if (!s || c.validTo < s.validTo) s = { what: serverName(c.peer, sip), subject: c.subject, validTo: c.validTo, server: true };
    }
    const days = s ? Math.floor((s.validTo.getTime() - now()) / DAY_MS) : Infinity;
    if (!s || days >= WARN_DAYS) return opts.faults.clear('tls-certificate');
    const when = s.validTo.toISOString().slice(0, 10);
    // The server's certificate is renewed at the server, not at the kiosk.
    const renew = s.server ? 'the SIP server needs a renewed certificate before then' : 'renew it before then';
    opts.faults.raise('tls-certificate', days < 0 ? `${s.what} expired on ${when} (${s.subject}): SIP over TLS fails until it is renewed` : `${s.what} expires on ${when}, in ${days} days (${s.subject}): ${renew}`);
  };
  check();
  const timer = setInterval(check, opts.everyMs ?? CHECK_MS).unref();
  if (opts.servers) opts.servers.onChange = check;
  return () => {
    clearInterval(timer);
    if (opts.servers?.onChange === check) opts.servers.onChange = undefined;
  };
}
