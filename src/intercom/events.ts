// Call lifecycle events. Lamps, screen, event log and hub link all follow
// these; the SIP code never drives them directly.
export type CallKind = 'emergency' | 'information';
export type CallState = 'calling' | 'ringing' | 'queued' | 'connected' | 'held' | 'ended' | 'failed';

export interface IntercomEvents {
  'call.requested': { kind: CallKind; category?: string; source: 'button' | 'screen' | 'hub' | 'tamper'; edgeNs?: bigint };
  /** Ask to end the current call (cancel button, screen); emergency calls refuse unless allowed by config. */
  'call.cancel': { source: string };
  /** Turn the active information call into an emergency call (emergency held during it). */
  'call.upgrade': { callId: string };
  /**
   * Something the intercom did not do, and why (never silent): a call request it did not act on
   * (`kind`, `source`), or something a call asked for and did not get because of where it came
   * from (`callId`, `action`: auto-answer, the door code, DTMF from outside the call).
   */
  'call.refused':
    | { kind: CallKind; source: string; reason: string; callId?: undefined; action?: undefined }
    | { callId: string; action: 'auto-answer' | 'door' | 'dtmf'; reason: string; kind?: undefined; source?: undefined };
  /** The SIP user agent is up: calls can be placed (the alarm resumes here after a restart). */
  'intercom.ready': { port: number };
  /** `trusted` (incoming calls): arrived over a trusted path (trust.ts), so it may auto-answer and pulse the door. */
  'call.state': { callId: string; kind: CallKind; state: CallState; target?: string; attempt?: number; reason?: string; incoming?: boolean; trusted?: boolean };
  /** Answer a ringing incoming call (the screen's answer button). */
  'call.answer': { callId: string };
  /** RTP statistics of a call's media, when its stream closes (kept in the call's event record). */
  /** `packetsRejected`: RTP from anyone but the latched peer (rtp-stream.ts), counted and dropped. */
  'call.media': { callId: string; codec: string; packetsSent: number; packetsReceived: number; packetsLost: number; lossPct: number; jitterMs: number; concealedFrames: number; packetsRejected: number };
  'call.dtmf': { callId: string; digits: string };
  'sip.registration': { registrar: string; registered: boolean; reason?: string };
  /**
   * A SIP page (sip.paging): `started` once answered (`from`: the caller's From, for the record; `via`: how it
   * arrived, which is what trusted it), `ended` with why and how long it played, `refused` with the status sent
   * (403 untrusted or not an allowed caller, 486 busy) and why. Not a `call.state`: a page is no intercom call.
   */
  'call.page': { callId: string; state: 'started' | 'ended' | 'refused'; from: string; via: string; reason?: string; code?: number; durationMs?: number };
  /** INVITEs from untrusted sources dropped unanswered while too many incoming calls were open (a flood); at most one per 10 s */
  'sip.dropped': { dropped: number; from: string; open: number };
  /** A SIP server refused over TLS (certificate not signed by sip.tls.ca, wrong host name, expired, no matching pin, handshake failed); the same refusal of the same server at most once a minute */
  'sip.tls': { peer: string; refused: true; reason: string; code?: string };
}
