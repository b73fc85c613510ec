export type FaultCode = 'audio' | 'sip-registration' | 'button-stuck' | 'tamper' | 'power' | 'store' | 'hub-link' | 'config' | 'gpio' | 'screen' | 'echo-canceller' | 'alarm' | 'test-failed' | 'clock' | 'tls-certificate';

export interface HealthEvents {
  'fault.raised': { code: FaultCode; detail: string };
  'fault.cleared': { code: FaultCode };
  /** A capability could not start; the kiosk runs on without it (and raises its fault). */
  'capability.failed': { name: string; reason: string };
}
