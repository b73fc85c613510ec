// SIP over UDP for sip.js in Node (sip.js ships only WebSocket). One socket
// bound to the kiosk's SIP port sends and receives (symmetric, so NATs and
// rport work); responses go back to the request's source. sip.js's
// transactions do not retransmit anything (they assume a reliable transport),
// so every message also passes through UdpReliability (reliability.ts), which
// adds the RFC 3261 timers UDP needs.
import dgram from 'node:dgram';
import { promises as dns } from 'node:dns';
import { TransportState } from 'sip.js';
import type { Logger } from 'sip.js/lib/core/log/logger.js';
import { BaseTransport, looksLikeSip, MAX_SIP_MESSAGE, type TransportOptions } from './base.js';
import { isResponse, requestTarget, ResponseRoutes, type Address, type Arrival } from './routing.js';
import { UdpReliability } from './reliability.js';
import { setupTrace } from '../../core/setup-trace.js';
import { literalLookup } from '../media/rtp-socket.js';

export class UdpTransport extends BaseTransport {
  readonly protocol = 'UDP';
  private socket?: dgram.Socket;
  protected readonly routes = new ResponseRoutes();
  private reliability?: UdpReliability;
  /** Is sip.js's client transaction for (branch, method) still there? Set once the user agent exists. */
  clientAlive?: (branch: string, method: string) => boolean;

  constructor(
    _logger: Logger,
    private readonly options: TransportOptions,
  ) {
    super();
    this.garbage = options.onGarbage;
  }

  async connect(): Promise<void> {
    if (this.socket) return;
    this.transition(TransportState.Connecting);
    // Destinations are addresses by the time they are sent to (resolve()): no dns.lookup tick per message.
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: false, lookup: literalLookup });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.options.port, this.options.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    // ICMP errors from unreachable peers: nothing to do here; UdpReliability
    // retransmits and sip.js's Timer B/F reports a timeout.
    socket.on('error', () => {});
    this.reliability = new UdpReliability((message, dest) => socket.send(message, dest.port, dest.host, () => {}), {
      inviteMaxIntervalMs: this.options.inviteMaxIntervalMs,
      clientAlive: (branch, method) => this.clientAlive?.(branch, method) ?? true,
    });
    socket.on('message', (buf, rinfo) => {
      const from: Arrival = { transport: 'udp', host: rinfo.address, port: rinfo.port };
      if (buf.length > MAX_SIP_MESSAGE) return this.options.onGarbage?.('oversized datagram', from);
      const text = buf.toString('utf8');
      if (setupTrace.enabled && text.startsWith('SIP/2.0 200') && / INVITE\r\n/.test(text)) setupTrace.mark('answer-received');
      if (text.trim() === '') return; // keep-alive CRLF
      if (!looksLikeSip(text)) return this.options.onGarbage?.('not a SIP message', from);
      if (!this.reliability!.received(text)) return; // a retransmission, answered again from the cache
      if (this.admit && !isResponse(text) && !this.admit(text, from)) return;
      this.routes.remember(text, from);
      this.deliver(text, from);
    });
    this.socket = socket;
    this.localPort = socket.address().port;
    this.transition(TransportState.Connected);
  }

  async send(message: string): Promise<void> {
    const socket = this.socket;
    if (!socket) throw new Error('UDP transport is not connected');
    const dest = isResponse(message) ? this.routes.lookup(message) : requestTarget(message, this.options.outbound, 5060);
    if (!dest) throw new Error('no destination for SIP message');
    const host = await resolve(dest);
    if (setupTrace.enabled) {
      if (message.startsWith('INVITE ')) setupTrace.mark('invite-sent');
      else if (message.startsWith('ACK ')) setupTrace.mark('ack-sent');
    }
    await new Promise<void>((res, rej) => socket.send(message, dest.port, host, (err) => (err ? rej(err) : res())));
    this.reliability?.sent(message, { host, port: dest.port });
  }

  arrival(branch: string): Arrival | undefined {
    return this.routes.request(branch);
  }

  responseArrival(branch: string): Arrival | undefined {
    return this.routes.response(branch);
  }

  /** Retransmission counters and what is pending (tests, health). */
  reliabilityStats() {
    return this.reliability ? { ...this.reliability.stats, ...this.reliability.pending() } : undefined;
  }

  async disconnect(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    this.reliability?.close();
    this.reliability = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
    this.transition(TransportState.Disconnected);
  }
}

export async function resolve(a: Address): Promise<string> {
  if (/^[\d.]+$/.test(a.host) || a.host.includes(':')) return a.host;
  return (await dns.lookup(a.host, { family: 4 })).address;
}
