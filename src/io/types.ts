// The hardware boundary. A driver only moves levels: it reports logical input
// levels (active = pressed / tampered / on battery, after activeLow is applied)
// and sets logical output levels. Debounce, press semantics and lamp logic live
// above drivers (io/inputs.ts, io/lamps.ts) so every driver behaves the same.
export const INPUT_NAMES = ['emergency', 'information', 'cancel', 'tamper', 'door', 'powerFail', 'reset'] as const;
export const OUTPUT_NAMES = ['lampYellow', 'lampGreen', 'lampFault', 'beacon', 'doorRelay'] as const;
export type InputName = (typeof INPUT_NAMES)[number];
export type OutputName = (typeof OUTPUT_NAMES)[number];

export type InputListener = (input: InputName, active: boolean, atNs: bigint) => void;

export interface IoDriver {
  readonly kind: 'sim' | 'onoff' | 'johnny-five';
  /** Opens the lines; rejects with a clear message when the hardware is missing. */
  open(): Promise<void>;
  /** Raw logical level changes, as they happen (no debounce). */
  onInput(listener: InputListener): void;
  /** Current logical level of an input (false when unknown). */
  read(input: InputName): boolean;
  /** Sets an output; unknown outputs (not in the pin map) are ignored. */
  write(output: OutputName, on: boolean): void;
  /** Current logical level of an output. */
  outputState(output: OutputName): boolean;
  close(): Promise<void>;
  /**
   * Hardware trouble while running: `detail` set when problem `key` starts
   * (a failed interrupt watch, a lost board), undefined when it is over.
   */
  onFault?(listener: FaultListener): void;
}

export type FaultListener = (key: string, detail: string | undefined) => void;

export function nowNs(): bigint {
  return process.hrtime.bigint();
}
