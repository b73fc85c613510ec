// startup: process start to "buttons armed and ready" for one kiosk, over 10
// cold starts of the compiled CLI (as on a device), and idle memory after.
import path from 'node:path';
import { start } from '../src/testbed/proc.js';
import { kioskConfigFile, REPO } from '../test/helpers/processes.js';
import { median, rssMb } from './stats.js';
import type { Report } from './run.js';

export async function run(report: Report): Promise<void> {
  const cli = path.join(REPO, 'dist/src/cli.js');
  const times: number[] = [];
  let rss = NaN;
  for (let i = 0; i < 10; i++) {
    const { file } = kioskConfigFile();
    const t0 = performance.now();
    const p = start('kiosk', process.execPath, [cli, 'kiosk', '--config', file], { cwd: REPO });
    await p.waitFor(/"msg":"ready"/, 20_000);
    times.push(performance.now() - t0);
    if (i === 9) {
      await new Promise((r) => setTimeout(r, 3000)); // let start-up garbage settle
      rss = rssMb(p.pid);
    }
    await p.stop();
  }
  report('ready_ms', median(times), 'ms', `median of ${times.length} cold starts`);
  report('ready_ms_max', Math.max(...times), 'ms');
  report('idle_rss_mb', rss, 'MB');
}
