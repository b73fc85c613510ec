import { Type } from '@sinclair/typebox';
import { Strict } from './common.js';

export const InputPin = Strict(
  {
    pin: Type.Integer({ minimum: 0, maximum: 1023, description: 'GPIO line (onoff), board pin (johnny-five) or any number (sim)' }),
    activeLow: Type.Boolean({ default: true, description: 'true when the contact pulls the line to ground' }),
    pull: Type.Union([Type.Literal('up'), Type.Literal('down'), Type.Literal('none')], { default: 'up' }),
    debounceMs: Type.Integer({ minimum: 0, maximum: 1000, default: 30 }),
  },
  'a digital input',
);

export const OutputPin = Strict(
  {
    pin: Type.Integer({ minimum: 0, maximum: 1023 }),
    activeLow: Type.Boolean({ default: false }),
  },
  'a digital output',
);

export const Io = Strict(
  {
    driver: Type.Union([Type.Literal('sim'), Type.Literal('onoff'), Type.Literal('johnny-five')], { default: 'sim' }),
    board: Type.Optional(Type.String({ description: 'board profile in device/boards (e.g. rpi4, rpi5, arduino-uno)' })),
    serialPort: Type.Optional(Type.String({ description: 'serial port of a Firmata board (johnny-five)' })),
    inputs: Strict({
      emergency: InputPin,
      information: InputPin,
      cancel: Type.Optional(InputPin),
      tamper: Type.Optional(InputPin),
      door: Type.Optional(InputPin),
      powerFail: Type.Optional(InputPin),
      reset: Type.Optional({ ...InputPin, description: 'key switch or button for staff on site: resets (closes) an open alarm' }),
    }),
    outputs: Strict({
      lampYellow: OutputPin,
      lampGreen: OutputPin,
      lampFault: Type.Optional(OutputPin),
      beacon: Type.Optional(OutputPin),
      doorRelay: Type.Optional(OutputPin),
    }),
    stuckMs: Type.Integer({ minimum: 1000, default: 30000, description: 'a button held longer is stuck' }),
    upgradeHoldMs: Type.Integer({ minimum: 100, default: 2000, description: 'hold emergency this long during an information call to upgrade it' }),
    doorPulseMs: Type.Integer({ minimum: 10, maximum: 60000, default: 1000 }),
    tamper: Type.Optional(
      Strict({
        playWarning: Type.Boolean({ default: true }),
        callDesk: Type.Boolean({ default: false }),
      }),
    ),
  },
  'buttons, lamps and relays',
);
