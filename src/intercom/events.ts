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
  /** A call request the intercom did not act on, and why (never silent). */
  'call.refused': { kind: CallKind; source: string; reason: string };
  /** The SIP user agent is up: calls can be placed (the alarm resumes here after a restart). */
  'intercom.ready': { port: number };
  'call.state': { callId: string; kind: CallKind; state: CallState; target?: string; attempt?: number; reason?: string; incoming?: boolean };
  /** Answer a ringing incoming call (the screen's answer button). */
  'call.answer': { callId: string };
  /** RTP statistics of a call's media, when its stream closes (kept in the call's event record). */
  'call.media': { callId: string; codec: string; packetsSent: number; packetsReceived: number; packetsLost: number; lossPct: number; jitterMs: number; concealedFrames: number };
  'call.dtmf': { callId: string; digits: string };
  'sip.registration': { registrar: string; registered: boolean; reason?: string };
}
