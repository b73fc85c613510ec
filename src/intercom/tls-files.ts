// The files of `sip.tls`: the site CA(s), the kiosk's own certificate and key.
// Paths are relative to the config file's folder. They are checked when a
// config is loaded or pushed (a missing file, a PEM that does not parse, a key
// that is not the certificate's are config errors at their path), and read
// again when the user agent starts.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { KioskConfig } from '../config/schema/kiosk.js';
import type { ConfigError } from '../config/validate.js';

type SipTls = NonNullable<KioskConfig['sip']['tls']>;

export interface SipTlsMaterial {
  ca?: Buffer[];
  cert?: Buffer;
  key?: Buffer;
  /** lower-case hex without colons */
  serverPins: string[];
}

export function caList(tls: SipTls | undefined): string[] {
  const ca = tls?.ca;
  return ca === undefined ? [] : Array.isArray(ca) ? ca : [ca];
}

/** "AB:cd:..." -> "abcd..." */
export function normalisePin(pin: string): string {
  return pin.replace(/:/g, '').toLowerCase();
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate of a PEM file; throws when there is none or one does not parse. */
function certificates(pem: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERT);
  if (!blocks) throw new Error('holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  return blocks.map((b) => new X509Certificate(b));
}

function read(dir: string, file: string): Buffer {
  return readFileSync(path.resolve(dir, file));
}

/** cert without key or key without cert (no files needed to tell). */
export function sipTlsPairProblem(config: KioskConfig): ConfigError | undefined {
  const tls = config.sip.tls;
  if (!tls || !!tls.cert === !!tls.key) return undefined;
  return { path: `/sip/tls/${tls.cert ? 'key' : 'cert'}`, message: 'cert and key go together: set both or neither' };
}

/** Problems with the files of `sip.tls`, at their config paths; none when it is not set. */
export function sipTlsProblems(config: KioskConfig, dir: string): ConfigError[] {
  const tls = config.sip.tls;
  if (!tls) return [];
  const errors: ConfigError[] = [];
  const at = (p: string, file: string, message: string) => errors.push({ path: `/sip/tls/${p}`, message: `${file}: ${message}` });
  const ca = caList(tls);
  ca.forEach((file, i) => {
    const p = Array.isArray(tls.ca) ? `ca/${i}` : 'ca';
    try {
      certificates(read(dir, file).toString('utf8'));
    } catch (err) {
      at(p, file, (err as Error).message);
    }
  });
  let cert: X509Certificate | undefined;
  if (tls.cert) {
    try {
      cert = certificates(read(dir, tls.cert).toString('utf8'))[0];
    } catch (err) {
      at('cert', tls.cert, (err as Error).message);
    }
  }
  if (tls.key) {
    try {
      const key = createPrivateKey(read(dir, tls.key));
      if (cert && !cert.checkPrivateKey(key)) at('key', tls.key, `is not the private key of ${tls.cert}`);
    } catch (err) {
      at('key', tls.key, `not a usable private key: ${(err as Error).message}`);
    }
  }
  return errors;
}

/** Reads the files of `sip.tls` for the transport (the config check has vouched for them). */
export function readSipTls(tls: SipTls | undefined, dir: string): SipTlsMaterial | undefined {
  if (!tls) return undefined;
  const ca = caList(tls);
  return {
    ca: ca.length ? ca.map((f) => read(dir, f)) : undefined,
    cert: tls.cert ? read(dir, tls.cert) : undefined,
    key: tls.key ? read(dir, tls.key) : undefined,
    serverPins: tls.serverPins.map(normalisePin),
  };
}
