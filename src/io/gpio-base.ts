// Kernel GPIO numbering for the onoff (sysfs) driver. Config pins are BCM
// numbers; the kernel numbers lines from its chip's base, which is 0 on old
// Raspberry Pi kernels and 512 (Pi 4) or 571 (Pi 5) on newer ones. "auto"
// finds the chip by its label in /sys/class/gpio.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { BoardProfile } from '../config/boards.js';

export function resolveGpioBase(profile: BoardProfile | undefined, sysfs = '/sys/class/gpio'): number {
  if (!profile || profile.gpioBase === undefined) return 0;
  if (typeof profile.gpioBase === 'number') return profile.gpioBase;
  let chips: string[] = [];
  try {
    chips = readdirSync(sysfs).filter((d) => d.startsWith('gpiochip'));
  } catch {
    throw new Error(`cannot read ${sysfs}: is this a ${profile.name} with sysfs GPIO enabled?`);
  }
  for (const chip of chips) {
    try {
      const label = readFileSync(path.join(sysfs, chip, 'label'), 'utf8').trim();
      if (label === profile.gpioChipLabel) return Number(readFileSync(path.join(sysfs, chip, 'base'), 'utf8').trim());
    } catch {
      /* not a chip folder */
    }
  }
  throw new Error(`no GPIO chip labelled "${profile.gpioChipLabel}" in ${sysfs} (board profile ${profile.name})`);
}
