export type FaultCode = 'audio' | 'sip-registration' | 'button-stuck' | 'tamper' | 'power' | 'store' | 'hub-link' | 'config' | 'echo-canceller';

export interface HealthEvents {
  'fault.raised': { code: FaultCode; detail: string };
  'fault.cleared': { code: FaultCode };
}
