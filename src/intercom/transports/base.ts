// Shared parts of our sip.js transports: the state machine sip.js expects
// (Connecting/Connected/Disconnecting/Disconnected) and the guard that keeps
// garbage from the network out of the SIP stack.
import { EmitterImpl, Grammar, TransportState, type Transport } from 'sip.js';
import type { Address, Arrival } from './routing.js';

export interface TransportOptions {
  /** local address and port to bind (0 picks a free port) */
  host: string;
  port: number;
  /** all requests go here when set (the registrar / proxy) */
  outbound?: Address;
  /** called with each datagram/message that is not SIP at all */
  onGarbage?: (reason: string, from: Address) => void;
  /** UDP only: longest interval between INVITE retransmissions (reliability.ts) */
  inviteMaxIntervalMs?: number;
  /** TLS only: the CA(s) the server's certificate must chain to (default: the system's), the kiosk's own certificate and key, server pins (tls-verify.ts) */
  tls?: { ca?: string | Buffer | Buffer[]; cert?: string | Buffer; key?: string | Buffer; serverPins?: string[] };
  /** TLS only: a server whose certificate was refused (never silent: the intercom makes it an event) */
  onTlsRefused?: (peer: Address, reason: string, code: string | undefined) => void;
  /** TLS only: a server dialled and accepted, with its certificate (DER): the kiosk warns before it lapses (tls-server-certs.ts) */
  onTlsServer?: (peer: Address, cert: Buffer) => void;
}

export const MAX_SIP_MESSAGE = 64 * 1024;

/** A cheap first check before sip.js parses: a request line or a status line. */
export function looksLikeSip(text: string): boolean {
  return /^(SIP\/2\.0 \d{3} |[A-Z]+ \S+ SIP\/2\.0\r?\n)/.test(text);
}

/**
 * Why sip.js would throw on this message's body, if it would. sip.js works out
 * a body's disposition from Content-Disposition, else from Content-Type, and
 * throws when it has neither while answering an INVITE or reading a response,
 * outside any caller of ours: an unhandled rejection that ends the process
 * (both found by the fuzz test). Such a message is dropped as garbage instead.
 * RFC 3261 7.4.1: a message with a body must have a Content-Type.
 */
export function bodyProblem(text: string): string | undefined {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = text.slice(0, end);
  const cd = /\r\ncontent-disposition[ \t]*:[ \t]*([^\r\n]*)/i.exec(head);
  if (cd && Grammar.parse(cd[1]!.trim(), 'Content_Disposition') === -1) return 'unparsable Content-Disposition';
  // the body as sip.js takes it: Content-Length bytes when given, else the rest
  const rest = text.length - (end + 4);
  const cl = /\r\n(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*(?=\r\n|$)/i.exec(head);
  const bodyLength = cl ? Math.min(Number(cl[1]), rest) : rest;
  if (bodyLength > 0 && !/\r\n(?:content-type|c)[ \t]*:/i.test(head)) return 'a body without Content-Type';
  return undefined;
}

export abstract class BaseTransport implements Transport {
  abstract readonly protocol: string;
  readonly stateChange = new EmitterImpl<TransportState>();
  private _state: TransportState = TransportState.Disconnected;
  onConnect: (() => void) | undefined;
  onDisconnect: ((error?: Error) => void) | undefined;
  onMessage: ((message: string) => void) | undefined;
  /** May this request reach sip.js? Asked for every request before it is remembered or parsed (request-admission.ts). */
  admit: ((text: string, from: Arrival) => boolean) | undefined;
  /** where dropped input is reported (the transport's onGarbage option) */
  protected garbage?: (reason: string, from: Address) => void;
  /** the port actually bound, once connected */
  localPort = 0;

  get state(): TransportState {
    return this._state;
  }

  protected transition(state: TransportState, error?: Error): void {
    if (state === this._state) return;
    this._state = state;
    this.stateChange.emit(state);
    if (state === TransportState.Connected) this.onConnect?.();
    if (state === TransportState.Disconnected) this.onDisconnect?.(error);
  }

  isConnected(): boolean {
    return this._state === TransportState.Connected;
  }

  protected deliver(text: string, from?: Address): void {
    const problem = bodyProblem(text);
    if (problem) return void (from && this.garbage?.(problem, from));
    try {
      this.onMessage?.(text);
    } catch {
      /* sip.js logs parse problems itself; a bad message must never reach our caller */
    }
  }

  /** Where a received request came from (its source address, not what it says about itself). */
  sourceOf(req: { viaBranch: string }): Address | undefined {
    return this.arrival(req.viaBranch);
  }
  /** How the request with this top-Via branch reached us (its flow), if it did. */
  abstract arrival(branch: string): Arrival | undefined;
  /** How the latest response to our request with this branch reached us. */
  abstract responseArrival(branch: string): Arrival | undefined;

  abstract connect(): Promise<void>;
  abstract disconnect(): Promise<void>;
  abstract send(message: string): Promise<void>;
  async dispose(): Promise<void> {
    await this.disconnect();
  }
}
