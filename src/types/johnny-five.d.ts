// The small part of johnny-five's API this project uses (it ships no types).
declare module 'johnny-five' {
  import { EventEmitter } from 'node:events';
  export class Board extends EventEmitter {
    constructor(opts: { io?: unknown; port?: string; repl?: boolean; debug?: boolean; timeout?: number });
    io: { digitalRead(pin: number, cb: (value: number) => void): void; [k: string]: unknown };
    isReady: boolean;
  }
  export class Button extends EventEmitter {
    constructor(opts: { pin: number; isPullup?: boolean; invert?: boolean; board?: Board });
    readonly isDown: boolean;
  }
  export class Led {
    constructor(opts: { pin: number; board?: Board });
    on(): this;
    off(): this;
    readonly isOn: boolean;
  }
}
declare module 'mock-firmata' {
  import { EventEmitter } from 'node:events';
  export class Firmata extends EventEmitter {
    constructor(opts?: Record<string, unknown>);
    digitalRead(pin: number, cb: (value: number) => void): void;
    digitalWrite(pin: number, value: number): void;
    pinMode(pin: number, mode: number): void;
    [k: string]: unknown;
  }
}
