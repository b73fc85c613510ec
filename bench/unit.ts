// The kiosk as systemd starts it: the node options of device/systemd/helppoint-kiosk.service's
// ExecStart, so a benchmark measures the process a device runs, not a differently tuned one.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO } from '../test/helpers/processes.js';

/** The options between `node` and the script in the kiosk unit's ExecStart (for example V8 heap flags). */
export function kioskUnitNodeOptions(): string[] {
  const unit = readFileSync(path.join(REPO, 'device/systemd/helppoint-kiosk.service'), 'utf8');
  const line = /^ExecStart=(.*)$/m.exec(unit)?.[1];
  if (!line) throw new Error('helppoint-kiosk.service has no ExecStart');
  const words = line.trim().split(/\s+/);
  const script = words.findIndex((w) => w.endsWith('helppoint.js'));
  if (!/\/node$/.test(words[0]!) || script < 1) throw new Error(`unexpected ExecStart: ${line}`);
  return words.slice(1, script);
}

/** Arguments for process.execPath as in the unit: its node options, bin/helppoint.js (the compiled CLI), kiosk --config. */
export function kioskUnitArgs(configFile: string): string[] {
  return [...kioskUnitNodeOptions(), path.join(REPO, 'bin/helppoint.js'), 'kiosk', '--config', configFile];
}
