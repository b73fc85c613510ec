import type { InputName, OutputName } from './types.js';

export type ButtonName = 'emergency' | 'information' | 'cancel';

export interface IoEvents {
  /** A debounced press: the mapped action should start. edgeNs is the raw edge (hrtime). */
  'button.press': { button: ButtonName; edgeNs: bigint; at: string };
  'button.release': { button: ButtonName; heldMs: number };
  'button.stuck': { button: ButtonName; heldMs: number };
  'button.unstuck': { button: ButtonName };
  'input.tamper': { active: boolean; at: string };
  'input.door': { open: boolean; at: string };
  'input.power': { onBattery: boolean; at: string };
  /** The staff reset input (key switch on site): active resets an open alarm. */
  'input.reset': { active: boolean; at: string };
  'output.changed': { output: OutputName; on: boolean };
  'input.changed': { input: InputName; active: boolean };
  /** A press that started nothing (a call is already active, or the button is stuck). */
  'button.ignored': { button: ButtonName; reason: string };
  /** Pulse a relay output (door or gate): from desk DTMF, a hub command or a test. */
  'relay.pulse': { output: 'doorRelay'; ms?: number; source: string };
}
