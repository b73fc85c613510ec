// A Firmata board (e.g. an Arduino running StandardFirmata) through
// johnny-five. Buttons and lamps are real johnny-five Button and Led objects
// (they set pin modes and pull-ups); edges are taken from the IO layer's raw
// digitalRead reports rather than Button's own events, because those add a
// 7 ms debounce of their own on top of ours.
import type { KioskConfig } from '../config/schema/kiosk.js';
import { INPUT_NAMES, OUTPUT_NAMES, nowNs, type FaultListener, type InputListener, type InputName, type IoDriver, type OutputName } from './types.js';

/** The Firmata IO object johnny-five drives: a real `firmata` Board, or `mock-firmata` in tests. */
export interface FirmataIo {
  digitalRead(pin: number, cb: (value: number) => void): void;
  [k: string]: unknown;
}


type Five = typeof import('johnny-five');
type Board = InstanceType<Five['Board']>;

export class JohnnyFiveDriver implements IoDriver {
  readonly kind = 'johnny-five' as const;
  private readonly listeners: InputListener[] = [];
  private readonly inputs = new Map<InputName, { level: boolean; button: unknown }>();
  private readonly outputs = new Map<OutputName, { led?: { on(): void; off(): void }; activeLow: boolean; on: boolean }>();
  private faultListener: FaultListener = () => {};
  private board?: Board;
  private reconnectTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly io: KioskConfig['io'],
    /** injected Firmata IO (tests); otherwise johnny-five opens io.serialPort */
    private readonly firmata?: FirmataIo,
    private readonly readyTimeoutMs = 15_000,
    /** after the board is lost, try to open it again this often */
    private readonly reconnectMs = 5000,
  ) {}

  async open(): Promise<void> {
    await this.connect();
  }

  private get where(): string {
    return this.io.serialPort ?? 'injected IO';
  }

  /** Opens the board and sets up its lines; outputs get back the levels they had. */
  private async connect(): Promise<void> {
    const mod = (await import('johnny-five')) as Five & { default?: Five };
    const five = mod.default ?? mod; // CommonJS module: named exports sit on default under ESM
    const opts = this.firmata ? { io: this.firmata, repl: false, debug: false } : { port: this.io.serialPort, repl: false, debug: false };
    const board = new five.Board(opts);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`Firmata board on ${this.where} not ready within ${this.readyTimeoutMs} ms`)), this.readyTimeoutMs);
      board.on('ready', () => (clearTimeout(t), resolve()));
      board.on('error', (err: unknown) => (clearTimeout(t), reject(err instanceof Error ? err : new Error(String(err)))));
    });
    this.board = board;
    // A board that goes away (USB unplugged, reset, serial error) is a fault until it is back.
    for (const ev of ['close', 'disconnect', 'error'] as const) board.on(ev, (e: unknown) => this.lost(board, ev, e));
    for (const name of INPUT_NAMES) {
      const def = this.io.inputs[name];
      if (!def) continue;
      const button = new five.Button({ pin: def.pin, isPullup: def.pull === 'up', invert: def.activeLow, board });
      const line = { level: this.inputs.get(name)?.level ?? false, button };
      this.inputs.set(name, line);
      board.io.digitalRead(def.pin, (value) => {
        if (board !== this.board) return; // a report from a board we have given up on
        const level = (value === 1) !== def.activeLow;
        if (level === line.level) return; // Firmata reports ports; ignore repeats
        const at = nowNs();
        line.level = level;
        for (const l of this.listeners) l(name, level, at);
      });
    }
    for (const name of OUTPUT_NAMES) {
      const def = this.io.outputs[name];
      if (!def) continue;
      const led = new five.Led({ pin: def.pin, board });
      const on = this.outputs.get(name)?.on ?? false;
      if (on !== def.activeLow) led.on();
      else led.off();
      this.outputs.set(name, { led, activeLow: def.activeLow, on });
    }
  }

  private lost(board: Board, ev: string, e: unknown): void {
    if (board !== this.board || this.closed) return;
    this.board = undefined;
    for (const o of this.outputs.values()) o.led = undefined;
    const why = e instanceof Error ? `: ${e.message}` : '';
    this.faultListener('board', `Firmata board on ${this.where} lost (${ev}${why}); reconnecting every ${this.reconnectMs / 1000} s`);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      if (this.closed) return;
      this.connect().then(
        () => this.faultListener('board', undefined),
        () => this.scheduleReconnect(), // still gone: the fault stays as it is
      );
    }, this.reconnectMs);
    this.reconnectTimer.unref();
  }

  onInput(listener: InputListener): void {
    this.listeners.push(listener);
  }

  onFault(listener: FaultListener): void {
    this.faultListener = listener;
  }

  read(input: InputName): boolean {
    return this.inputs.get(input)?.level ?? false;
  }

  write(output: OutputName, on: boolean): void {
    const o = this.outputs.get(output);
    if (!o || o.on === on) return;
    o.on = on; // remembered while the board is away, applied when it is back
    if (!o.led) return;
    if (on !== o.activeLow) o.led.on();
    else o.led.off();
  }

  outputState(output: OutputName): boolean {
    return this.outputs.get(output)?.on ?? false;
  }

  async close(): Promise<void> {
    for (const name of this.outputs.keys()) this.write(name, false);
    this.closed = true;
    clearTimeout(this.reconnectTimer);
  }
}
