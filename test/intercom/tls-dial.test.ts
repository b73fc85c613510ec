// The kiosk's TLS dial (transports/stream.ts, tls-verify.ts) against a plain
// Node TLS server: what is refused, with which reason, and what is shown to
// a server that asks for a client certificate. Kamailio's TLS module is the
// peer of test/intercom/sip-tls.test.ts.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { StreamTransport } from '../../src/intercom/transports/stream.js';
import { tmpDir, until } from '../helpers/tmp.js';
import { makeCa, makeLeaf, type Pem } from '../helpers/tls-certs.js';

const OPTIONS = (host: string) => `OPTIONS sip:${host} SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK-1\r\nFrom: <sip:k@${host}>;tag=1\r\nTo: <sip:${host}>\r\nCall-ID: tls-dial-1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`;

describe('intercom: TLS dial, certificate checks', function () {
  this.timeout(20_000);
  const dir = tmpDir('hp-tls-dial-');
  const ca = makeCa(dir, 'site-ca');
  const byName = makeLeaf(dir, 'by-name', ca, 'DNS:localhost');
  const expired = makeLeaf(dir, 'expired', ca, 'IP:127.0.0.1,DNS:localhost', -1);
  const kiosk = makeLeaf(dir, 'kiosk', ca, 'IP:127.0.0.1');
  const servers: tls.Server[] = [];
  after(() => servers.forEach((s) => s.close()));

  /** A TLS server with this certificate; records the client certificate it was shown and the first bytes. */
  async function server(pem: Pem, requestCert = false) {
    const seen: { clientCert?: string; data: string } = { data: '' };
    const s = tls.createServer({ cert: readFileSync(pem.cert), key: readFileSync(pem.key), requestCert, rejectUnauthorized: false }, (sock) => {
      seen.clientCert = String(sock.getPeerCertificate()?.subject?.CN);
      sock.on('data', (d) => (seen.data += d.toString()));
      sock.on('error', () => {});
    });
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    return { port: (s.address() as AddressInfo).port, seen };
  }

  async function dial(host: string, port: number, tlsOpts: Record<string, unknown> = {}) {
    const refusals: { reason: string; code?: string }[] = [];
    const t = new StreamTransport({} as never, {
      host: '127.0.0.1',
      port: 0,
      secure: true,
      outbound: { host, port },
      tls: { ca: [readFileSync(ca.cert)], ...tlsOpts },
      onTlsRefused: (_peer, reason, code) => refusals.push({ reason, code }),
    });
    await t.connect();
    const sent = await t.send(OPTIONS(host)).then(() => undefined, (err: Error) => err);
    await t.disconnect();
    return { sent, refusals };
  }

  it('a registrar given by IP address needs that address in the certificate\'s subjectAltName: refused, saying so', async () => {
    const { port } = await server(byName);
    const { sent, refusals } = await dial('127.0.0.1', port);
    assert.ok(sent instanceof Error);
    assert.equal(refusals.length, 1);
    assert.equal(refusals[0]!.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
    assert.match(refusals[0]!.reason, /needs IP:127\.0\.0\.1 \(the registrar is given by IP address\) in its subjectAltName/);
  });

  it('the same certificate is accepted for the host name it names', async () => {
    const { port, seen } = await server(byName);
    const { sent, refusals } = await dial('localhost', port);
    assert.equal(sent, undefined);
    assert.deepEqual(refusals, []);
    await until(() => seen.data.startsWith('OPTIONS sip:localhost'), 3000, 'the request arrived');
  });

  it('an expired certificate is refused', async () => {
    const { port } = await server(expired);
    const { refusals } = await dial('127.0.0.1', port);
    assert.equal(refusals[0]?.code, 'CERT_HAS_EXPIRED');
    assert.match(refusals[0]!.reason, /expired/);
  });

  it('no refusal event for a server that is not there (not a TLS refusal: the registration fault says it)', async () => {
    const { port } = await server(byName);
    servers.pop()!.close();
    const { sent, refusals } = await dial('127.0.0.1', port);
    assert.ok(sent instanceof Error);
    assert.deepEqual(refusals, []);
  });

  it('shows the kiosk\'s own certificate to a server that asks for one', async () => {
    const { port, seen } = await server(byName, true);
    const { sent } = await dial('localhost', port, { cert: readFileSync(kiosk.cert), key: readFileSync(kiosk.key) });
    assert.equal(sent, undefined);
    await until(() => seen.data.length > 0, 3000, 'the request arrived');
    assert.equal(seen.clientCert, 'kiosk');
  });
});
