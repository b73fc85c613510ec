// Trust in the hub by its public key: the kiosk keeps a list of SPKI SHA-256
// pins (base64, as in HPKP / RFC 7469), the current key first and backups for
// the next key, which the hub pushes ahead of a key change. A TLS connection
// is handed to the WebSocket or HTTP request only after the pin matched, so
// nothing (no token) is ever written to a hub that does not hold a pinned key.
// The certificate chain and name are not checked: the pin is the trust.
import { createHash, type X509Certificate } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';

/** base64 SHA-256 of a certificate's SubjectPublicKeyInfo (DER). */
export function spkiPin(cert: X509Certificate): string {
  return createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
}

export class PinError extends Error {
  override name = 'PinError';
}

type Connect = (options: tls.ConnectionOptions & { host?: string; port?: number; servername?: string }, cb: (err: Error | null, socket?: Duplex) => void) => undefined;

/** A `createConnection` for ws / http(s).request that checks the pin before handing the socket over. */
export function pinnedConnect(pins: readonly string[], timeoutMs = 10_000): Connect {
  return (options, cb) => {
    const host = options.host ?? 'localhost';
    const sock = tls.connect({
      host,
      port: options.port,
      servername: options.servername ?? (/^[\d.]+$|:/.test(host) ? undefined : host),
      ALPNProtocols: ['http/1.1'],
      rejectUnauthorized: false, // the pin decides, below
    });
    const timer = setTimeout(() => sock.destroy(new PinError('hub TLS handshake timed out')), timeoutMs);
    sock.once('secureConnect', () => {
      clearTimeout(timer);
      const cert = sock.getPeerX509Certificate();
      const pin = cert && spkiPin(cert);
      if (!pin || !pins.includes(pin)) {
        sock.destroy();
        return cb(new PinError(`hub public key ${pin ?? '(none)'} matches no pinned key`));
      }
      cb(null, sock);
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      cb(err);
    });
    return undefined;
  };
}

/**
 * GET from the hub with the same trust as the hub link (pins for https);
 * the body is capped at maxBytes.
 */
export function hubGet(
  url: URL,
  opts: { headers?: Record<string, string>; pins?: readonly string[]; timeoutMs?: number; maxBytes: number },
): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const pinned = secure && opts.pins?.length ? { createConnection: pinnedConnect(opts.pins, opts.timeoutMs) as never } : {};
    const req = (secure ? https : http).request(url, { method: 'GET', headers: opts.headers, timeout: opts.timeoutMs ?? 15_000, ...pinned }, (res) => {
      const len = Number(res.headers['content-length'] ?? 0);
      if (len > opts.maxBytes) {
        res.destroy();
        return reject(new Error(`${len} bytes is over the ${opts.maxBytes} byte limit`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > opts.maxBytes) {
          res.destroy();
          reject(new Error(`over the ${opts.maxBytes} byte limit`));
        } else chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}
