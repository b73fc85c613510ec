// The process guard in a real kiosk process: an exception thrown in a timer,
// or a rejection nobody handles, is logged, recorded in the journal before the
// process exits, and the exit code is non-zero so systemd restarts the kiosk.
// After the restart the record is still waiting for the hub.
import { strict as assert } from 'node:assert';
import path from 'node:path';
import { kioskConfigFile, startKioskProcess, postJson } from '../helpers/processes.js';
import { readJournal } from '../../src/store/event-journal.js';
import { GUARD_EXIT_CODE } from '../../src/core/process-guard.js';

describe('kiosk process guard', function () {
  this.timeout(60_000);

  for (const how of ['timer', 'rejection'] as const) {
    it(`an ${how === 'timer' ? 'exception in a timer' : 'unhandled rejection'} is recorded and ends the process non-zero`, async () => {
      const { file, dir } = kioskConfigFile();
      const kiosk = await startKioskProcess(file, { HELPPOINT_TEST_SEAMS: '1' });
      const r = await postJson(kiosk.url + 'test/fail', { how });
      assert.equal(r.status, 202);
      const code = await kiosk.proc.exited;
      assert.equal(code, GUARD_EXIT_CODE);
      assert.match(kiosk.proc.output(), how === 'timer' ? /fatal uncaughtException: Error: injected exception in a timer/ : /fatal unhandledRejection: Error: injected unhandled rejection/);
      const crash = readJournal(path.join(dir, 'data')).pending.find((e) => e.type === 'process.crash');
      assert.ok(crash, 'the crash is recorded and waits for the hub');
      assert.equal((crash.data as { kind: string }).kind, how === 'timer' ? 'uncaughtException' : 'unhandledRejection');
      // Restarted (as systemd would): the record survives and is still queued for the hub.
      const again = await startKioskProcess(file);
      const h = (await (await fetch(again.url + 'health')).json()) as { outbox: number };
      assert.ok(h.outbox >= 1);
      assert.ok(readJournal(path.join(dir, 'data')).pending.some((e) => e.id === crash.id));
      await again.stop();
    });
  }
});
