// A hub process with console desks, for the desk tests and the desk benchmark.
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { start, type Managed } from '../../src/testbed/proc.js';
import { freePort } from '../../src/testbed/ports.js';
import { readMerged } from '../../src/config/load.js';
import { CLI, EXAMPLE, REPO } from '../helpers/processes.js';
import { tmpDir } from '../helpers/tmp.js';
import type { Browser, Page } from 'playwright-core';
import { alarmRig, type AlarmRig } from '../alarm/helpers.js';
import { DEMO_TOKEN } from '../hub/harness.js';

export const DESK_SECTION = (wsUrl = 'ws://127.0.0.1:9/') => ({
  sip: { wsUrl, domain: '127.0.0.1' },
  desks: [
    { id: 'desk', password: 'desk-secret', name: 'Desk 1' },
    { id: 'desk2', password: 'desk2-secret', name: 'Desk 2' },
  ],
  listenIn: false,
  claimLapseS: 15,
});

/**
 * A hub process on the example site's config with console desks; `o.config`
 * overrides top-level sections (e.g. `console`), `o.database` a PostgreSQL
 * URL (several instances on one database), `o.name` its name in the output.
 */
export async function startHubProcess(desk: unknown = DESK_SECTION(), o: { config?: Record<string, unknown>; database?: string; name?: string } = {}): Promise<{ hub: Managed; base: string; port: number }> {
  const m = readMerged(path.join(EXAMPLE, 'hub.json'));
  assert.ok(m.ok);
  const port = await freePort();
  const dir = tmpDir('hp-hub-');
  const file = path.join(dir, 'hub.json');
  writeFileSync(file, JSON.stringify({ ...(m.value as object), $schema: 'hub.schema.json', listen: { host: '127.0.0.1', port }, dataDir: path.join(dir, 'data'), desk, ...o.config }));
  const db = o.database ? ['--database', o.database] : [];
  const hub = start(o.name ?? 'hub', process.execPath, ['--import', 'tsx', CLI, 'hub', '--config', file, ...db], { cwd: REPO });
  await hub.waitFor(/"msg":"ready"/, 60_000);
  return { hub, base: `http://127.0.0.1:${port}`, port };
}


/** Logs in through the console's own form and opens the desk page; resolves once its phone is registered. */
export async function openBoard(browser: Browser, base: string, user = 'dispatcher', password = 'dispatcher-demo'): Promise<Page> {
  const context = await browser.newContext({ permissions: ['microphone'] });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('board page error:', e.message));
  await page.goto(base + '/');
  await page.fill('input[name=user]', user);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForURL(base + '/'), page.click('button[type=submit]')]);
  await page.goto(base + '/desk');
  await page.waitForFunction(() => (window as any).board?.S.phone?.registered === true && (window as any).board.S.streamOpen, undefined, { timeout: 20_000 });
  return page;
}


/**
 * The desk tests' kiosk: conc-north linked to the hub at `base`, registered at
 * the test bed's Kamailio, calling `hunt`; its microphone a WAV, its output
 * a raw file. Hands-free processing off: the tests send steady tones, often
 * both ways at once, which the echo and noise suppressors would (rightly) cut.
 */
export function deskKiosk(o: { base: string; kamailioPort: number; password: string; hunt: { uri: string; ringTimeoutS: number }[]; micWav: string; capture: string; rate?: number; deskServer?: boolean }): Promise<AlarmRig> {
  return alarmRig({
    hub: { url: `ws://127.0.0.1:${new URL(o.base).port}/kiosk`, token: DEMO_TOKEN('conc-north'), heartbeatS: 1 },
    sip: {
      account: { user: 'conc-north', password: o.password, domain: '127.0.0.1', registrars: [{ uri: `sip:127.0.0.1:${o.kamailioPort}`, transport: 'udp' }] },
      // This test bed's SIP server (the example site names the demo's).
      ...(o.deskServer ? { deskServer: `127.0.0.1:${o.kamailioPort}` } : {}),
      targets: { emergency: o.hunt, information: o.hunt },
    },
    audio: { input: { source: 'file', file: o.micWav }, output: { sink: 'file', file: o.capture, rate: o.rate ?? 16000 }, volume: 1, handsFree: { mode: 'off' } },
  });
}
