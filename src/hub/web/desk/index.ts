// The desk's browser bundle (dist/web/desk/phone.js): the SIP phone and the audio meter.
export { DeskPhone, PhoneError, ALARM_INFO_TYPE, microphoneError } from './phone.js';
export type { PhoneConfig, PhoneEvents, PhoneErrorCode, CallInfo, CallState, CallDirection, AlarmAction, DtmfMethod } from './phone.js';
export { AudioMeter, loadWorklet } from './meter.js';
export type { Level } from './meter.js';
