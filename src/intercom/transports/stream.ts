// SIP over TCP and TLS for sip.js in Node. Messages are framed by
// Content-Length (RFC 3261 18.3). We keep one connection per peer, reuse it
// for responses and for requests the peer sends us, and also listen on our own
// port for peers (a desk's BYE) that open a connection to our Contact.
import { createHash } from 'node:crypto';
import net, { isIP } from 'node:net';
import tls from 'node:tls';
import { TransportState } from 'sip.js';
import type { Logger } from 'sip.js/lib/core/log/logger.js';
import { BaseTransport, looksLikeSip, MAX_SIP_MESSAGE, type TransportOptions } from './base.js';
import { isResponse, ownCopy, requestTarget, ResponseRoutes, type Address, type Arrival } from './routing.js';
import { resolve } from './udp.js';
import { PIN_MISMATCH, serverIdentityCheck } from './tls-verify.js';

type Sock = net.Socket | tls.TLSSocket;

/** Connections peers may hold open to us at once; more are closed at once. */
const MAX_INBOUND = 256;
/** An inbound connection with no traffic at all for this long is closed (peers keep theirs alive with CRLF). */
const INBOUND_IDLE_MS = 10 * 60_000;

/** Splits a byte stream into SIP messages. Returns false when the stream is garbage. */
export class SipFramer {
  private buf = Buffer.alloc(0);
  constructor(private readonly onMessage: (text: string) => void) {}
  push(chunk: Buffer): boolean {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      while (this.buf.length >= 2 && this.buf[0] === 13 && this.buf[1] === 10) this.buf = this.buf.subarray(2); // keep-alives
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return this.buf.length <= MAX_SIP_MESSAGE;
      const head = this.buf.subarray(0, end).toString('utf8');
      if (!looksLikeSip(head + '\r\n')) return false;
      const m = /^(?:content-length|l)\s*:\s*(\d+)\s*$/im.exec(head);
      const len = m ? Number(m[1]) : 0;
      if (len > MAX_SIP_MESSAGE) return false;
      if (this.buf.length < end + 4 + len) return true;
      this.onMessage(this.buf.subarray(0, end + 4 + len).toString('utf8'));
      this.buf = this.buf.subarray(end + 4 + len);
    }
  }
}

export class StreamTransport extends BaseTransport {
  readonly protocol: 'TCP' | 'TLS';
  private server?: net.Server;
  private readonly conns = new Map<string, Sock>();
  protected readonly routes = new ResponseRoutes();
  /** which connection each request arrived on, by Via branch */
  private readonly arrivedOn = new Map<string, Sock>();

  constructor(
    _logger: Logger,
    private readonly options: TransportOptions & { secure?: boolean },
  ) {
    super();
    this.garbage = options.onGarbage;
    this.protocol = options.secure ? 'TLS' : 'TCP';
  }

  private key(a: Address): string {
    return `${a.host}:${a.port}`;
  }

  private adopt(sock: Sock, peer: Address, dialed: boolean): void {
    const key = this.key(peer);
    const arrival: Arrival = { transport: this.options.secure ? 'tls' : 'tcp', host: peer.host, port: peer.port, dialed, peerCertSha256: certSha256(sock) };
    this.conns.set(key, sock);
    sock.setNoDelay(true);
    sock.setKeepAlive(true, 15_000);
    const framer = new SipFramer((text) => {
      if (this.admit && !isResponse(text) && !this.admit(text, arrival)) return;
      this.routes.remember(text, arrival);
      if (!isResponse(text)) {
        const b = /;\s*branch=([^;,\s]+)/i.exec(text)?.[1];
        if (b) this.arrivedOn.set(ownCopy(b), sock);
        if (this.arrivedOn.size > 2000) this.arrivedOn.clear();
      }
      this.deliver(text, arrival);
    });
    sock.on('data', (d: Buffer) => {
      if (!framer.push(d)) {
        this.options.onGarbage?.('not a SIP stream', peer);
        sock.destroy();
      }
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      if (this.conns.get(key) === sock) this.conns.delete(key);
    });
  }

  async connect(): Promise<void> {
    if (this.server) return;
    this.transition(TransportState.Connecting);
    const onConn = (sock: Sock) => {
      // A peer that only opens connections (or trickles a message that never ends) must not hold them for ever.
      sock.setTimeout(INBOUND_IDLE_MS, () => sock.destroy());
      this.adopt(sock, { host: sock.remoteAddress ?? '', port: sock.remotePort ?? 0 }, false);
    };
    // A peer may present a certificate of its own: it is not required, but a pinned one makes its calls trusted (trust.ts).
    const server = this.options.secure
      ? tls.createServer({ cert: this.options.tls?.cert, key: this.options.tls?.key, requestCert: true, rejectUnauthorized: false }, onConn)
      : net.createServer(onConn);
    server.maxConnections = MAX_INBOUND;
    // A TLS kiosk without a certificate of its own cannot accept connections; it still dials out.
    if (!this.options.secure || (this.options.tls?.cert && this.options.tls.key)) {
      await new Promise<void>((res, rej) => {
        server.once('error', rej);
        server.listen(this.options.port, this.options.host, () => res());
      });
      this.localPort = (server.address() as net.AddressInfo).port;
    } else this.localPort = this.options.port;
    this.server = server;
    this.transition(TransportState.Connected);
  }

  private async dial(dest: Address): Promise<Sock> {
    const existing = this.conns.get(this.key(dest));
    if (existing && !existing.destroyed) return existing;
    const host = await resolve(dest);
    const sock: Sock = await new Promise((res, rej) => {
      const t = this.options.tls;
      // Always verified: the chain against sip.tls.ca (else the system's CAs), the host name, the pins (tls-verify.ts).
      const s = this.options.secure
        ? tls.connect(
            {
              host,
              port: dest.port,
              servername: isIP(dest.host) ? undefined : dest.host,
              ca: t?.ca,
              cert: t?.cert,
              key: t?.key,
              rejectUnauthorized: true,
              checkServerIdentity: serverIdentityCheck(t?.serverPins ?? []),
            },
            () => res(s),
          )
        : net.connect({ host, port: dest.port }, () => res(s));
      let reached = false;
      s.once('connect', () => (reached = true));
      s.once('error', (err: NodeJS.ErrnoException) => {
        // Reached over TCP, then the TLS handshake failed: this server was refused (or refused us). Said so, never silent.
        if (this.options.secure && reached) this.options.onTlsRefused?.(dest, refusal(err), err.code);
        rej(err);
      });
      s.setTimeout(5000, () => s.destroy(new Error(`connect to ${dest.host}:${dest.port} timed out${reached ? ' in the TLS handshake' : ''}`)));
    });
    sock.setTimeout(0);
    this.adopt(sock, dest, true);
    const onServer = this.options.onTlsServer;
    const raw = onServer && sock instanceof tls.TLSSocket ? sock.getPeerCertificate()?.raw : undefined;
    // Only a record for a warning: after the message (an alarm call's INVITE too) is on its way, and whatever goes wrong in it stays there.
    if (raw) setImmediate(() => {
      try {
        onServer!(dest, raw);
      } catch {
        /* no record: no warning, nothing else */
      }
    });
    return sock;
  }

  async send(message: string): Promise<void> {
    if (!this.server) throw new Error(`${this.protocol} transport is not connected`);
    let sock: Sock | undefined;
    if (isResponse(message)) {
      const b = /;\s*branch=([^;,\s]+)/i.exec(message)?.[1];
      sock = b ? this.arrivedOn.get(b) : undefined;
      if (!sock || sock.destroyed) {
        const back = this.routes.lookup(message);
        if (back) sock = await this.dial(back);
      }
    } else {
      const dest = requestTarget(message, this.options.outbound, this.options.secure ? 5061 : 5060);
      if (dest) sock = await this.dial(dest);
    }
    if (!sock) throw new Error('no destination for SIP message');
    await new Promise<void>((res, rej) => sock!.write(message, (err) => (err ? rej(err) : res())));
  }

  arrival(branch: string): Arrival | undefined {
    return this.routes.request(branch);
  }

  responseArrival(branch: string): Arrival | undefined {
    return this.routes.response(branch);
  }

  async disconnect(): Promise<void> {
    for (const s of this.conns.values()) s.destroy();
    this.conns.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((r) => server.close(() => r()));
    this.transition(TransportState.Disconnected);
  }
}

/** Node's verification codes that mean "signed by no CA the kiosk trusts". */
const UNTRUSTED = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_SIGNATURE_FAILURE']);

/** Why a TLS server was refused, in words that point at the setting to look at. */
function refusal(err: NodeJS.ErrnoException): string {
  if (err.code === PIN_MISMATCH) return err.message;
  if (err.code && UNTRUSTED.has(err.code)) return `${err.message} (${err.code}): the server certificate is not signed by a CA in sip.tls.ca`;
  // OpenSSL's own text ("...:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:file:line:...") shortened to its reason
  const message = /SSL routines:[^:]*:([^:]+):/.exec(err.message)?.[1] ?? err.message;
  // The server's alert about our certificate: it wants one (or one it trusts).
  if (/ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|HANDSHAKE_FAILURE)/.test(err.code ?? '')) {
    return `the server ended the TLS handshake: ${message} (${err.code}); does it require a client certificate? the kiosk shows sip.tls.cert, if set`;
  }
  return err.code ? `${message} (${err.code})` : message;
}

/** SHA-256 (hex) of a TLS peer's certificate (DER), if it presented one. */
function certSha256(sock: Sock): string | undefined {
  if (!(sock instanceof tls.TLSSocket)) return undefined;
  const raw = sock.getPeerCertificate()?.raw;
  return raw ? createHash('sha256').update(raw).digest('hex') : undefined;
}
