import { Type } from '@sinclair/typebox';
import { Strict } from './common.js';

/**
 * The board itself. Device-local like `dataDir` and `local`: always taken from
 * the kiosk's own file, never from a config the hub pushes (the hub must not
 * choose a command the kiosk runs).
 */
export const System = Strict(
  {
    rebootCommand: Type.Array(Type.String({ minLength: 1, maxLength: 4096 }), {
      maxItems: 32,
      default: ['systemctl', 'reboot'],
      description:
        'argv run (no shell) when the hub asks for a reboot of the board (command kiosk.reboot); it must return once the reboot is handed to the system, exit 0 meaning accepted. Empty: this kiosk may not be rebooted from the hub. The kiosk\'s user needs the right to reboot (device/polkit)',
    }),
  },
  'the board: what the kiosk may ask of the system. Without this section the board cannot be rebooted from the hub',
);
