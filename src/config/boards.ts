// Board profiles live in device/boards/*.json: which GPIO lines exist and
// how the driver numbers them (newer Raspberry Pi kernels offset sysfs GPIO
// numbers by the chip base, e.g. 512 or 571).
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export interface BoardProfile {
  name: string;
  driver: 'onoff' | 'johnny-five' | 'sim';
  description: string;
  /** usable lines, in the numbering the config uses (BCM for a Pi, Arduino pin numbers) */
  pins: number[];
  /** onoff: added to a BCM number to get the kernel's line number; 'auto' reads /sys/class/gpio */
  gpioBase?: number | 'auto';
  gpioChipLabel?: string;
}


function boardsDir(): string {
  // src/config -> ../../device ; dist/src/config -> ../../../device
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const up of ['../../device/boards', '../../../device/boards']) {
    const p = path.resolve(here, up);
    if (existsSync(p)) return p;
  }
  return path.resolve(here, '../../device/boards');
}

const cache = new Map<string, BoardProfile | undefined>();
export function loadBoardProfile(name: string): BoardProfile | undefined {
  if (!/^[a-z0-9-]+$/.test(name)) return undefined;
  if (cache.has(name)) return cache.get(name);
  const file = path.join(boardsDir(), `${name}.json`);
  const profile = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as BoardProfile) : undefined;
  cache.set(name, profile);
  return profile;
}
