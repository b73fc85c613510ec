// startup: process start to "buttons armed and ready" for one kiosk, over 10
// cold starts of the compiled CLI started as the systemd unit starts it (its
// node options included), and idle memory after.
import { start } from '../src/testbed/proc.js';
import { kioskConfigFile, REPO } from '../test/helpers/processes.js';
import { kioskUnitArgs, kioskUnitNodeOptions } from './unit.js';
import { median, rssMb } from './stats.js';
import type { Report } from './run.js';

export async function run(report: Report): Promise<void> {
  const times: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < 10; i++) {
    const { file } = kioskConfigFile();
    const t0 = performance.now();
    const p = start('kiosk', process.execPath, kioskUnitArgs(file), { cwd: REPO });
    await p.waitFor(/"msg":"ready"/, 20_000);
    times.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 3000)); // let start-up garbage settle
    rss.push(rssMb(p.pid));
    await p.stop();
  }
  const how = `node ${kioskUnitNodeOptions().join(' ')} bin/helppoint.js kiosk (as helppoint-kiosk.service), sim driver, no hub`;
  report('ready_ms', median(times), 'ms', `median of ${times.length} cold starts; ${how}`);
  report('ready_ms_max', Math.max(...times), 'ms');
  report('idle_rss_mb', median(rss), 'MB', `median of ${rss.length}: VmRSS 3 s after ready (shared pages of the node binary included, about 45 MB); ${how}`);
  report('idle_rss_mb_max', Math.max(...rss), 'MB');
}
