// Which SIP server the kiosk accepts over TLS. Node has already checked the
// chain against the CA(s) (sip.tls.ca, else the system's) when this runs; here
// the host name, with an error that says what the certificate lacks, and the
// pins (sip.tls.serverPins): the SHA-256 of the server's certificate or of its
// public key. A pinned kiosk refuses a server the CA signed but whose
// certificate matches no pin (a CA that signed too much, a swapped server).
import { createHash, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import tls, { type PeerCertificate } from 'node:tls';

/** The error code of a certificate that matches no pin (Node's own codes name the other refusals). */
export const PIN_MISMATCH = 'ERR_SIP_TLS_PIN_MISMATCH';

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** SHA-256 of the certificate (DER) and of its public key (SPKI, DER), hex. */
export function certDigests(raw: Buffer): { cert: string; spki: string } {
  const spki = new X509Certificate(raw).publicKey.export({ type: 'spki', format: 'der' });
  return { cert: sha256(raw), spki: sha256(spki) };
}

/** A checkServerIdentity for tls.connect: host name (or IP address in subjectAltName), then pins. */
export function serverIdentityCheck(pins: readonly string[]): (host: string, cert: PeerCertificate) => Error | undefined {
  return (host, cert) => {
    const err = tls.checkServerIdentity(host, cert);
    if (err) {
      // Node's message names the altnames but not the fix.
      const need = isIP(host) ? `IP:${host} (the registrar is given by IP address)` : `DNS:${host}`;
      err.message = `${err.message}; the server certificate needs ${need} in its subjectAltName`;
      return err;
    }
    if (pins.length === 0) return undefined;
    const d = certDigests(cert.raw);
    if (pins.includes(d.cert) || pins.includes(d.spki)) return undefined;
    const e = new Error(`the server certificate matches no pin in sip.tls.serverPins (certificate SHA-256 ${d.cert}, public key SHA-256 ${d.spki})`) as NodeJS.ErrnoException;
    e.code = PIN_MISMATCH;
    return e;
  };
}
