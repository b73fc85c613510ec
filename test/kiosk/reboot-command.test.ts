// The kiosk's reboot command runner and boot id (src/kiosk/reboot.ts): exit 0
// is the only success; not found, a non-zero exit (with its last error line),
// a signal and a hang are reasons the hub is told.
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { readBootId, runRebootCommand, BOOT_ID_FILE_ENV } from '../../src/kiosk/reboot.js';
import { tmpDir } from '../helpers/tmp.js';

describe('kiosk reboot command and boot id', function () {
  this.timeout(20_000);
  const node = process.execPath;

  it('exit 0 is handed to the system; a failure says why', async () => {
    assert.equal(await runRebootCommand([node, '-e', 'process.exit(0)']), undefined);
    assert.equal(await runRebootCommand([node, '-e', 'console.error("first\\nFailed to reboot: access denied"); process.exit(1)']), `${node} exited 1: Failed to reboot: access denied`);
    assert.equal(await runRebootCommand(['helppoint-no-such-reboot-command']), 'helppoint-no-such-reboot-command: not found');
    assert.equal(await runRebootCommand([node, '-e', 'process.kill(process.pid, "SIGTERM")']), `${node} killed by SIGTERM`);
    assert.equal(await runRebootCommand([]), 'no reboot command');
  });

  it('a command that does not return in time is killed and reported', async () => {
    const t0 = Date.now();
    assert.equal(await runRebootCommand([node, '-e', 'setTimeout(() => {}, 60000)'], 300), `${node} did not finish within 0.3 s`);
    assert.ok(Date.now() - t0 < 5000);
  });

  it('the boot id: the kernel\'s, or for tests the file the environment names', () => {
    const real = readBootId({});
    if (process.platform === 'linux') assert.match(real ?? '', /^[0-9a-f-]{36}$/);
    const file = path.join(tmpDir('hp-boot-'), 'boot_id');
    writeFileSync(file, 'boot-test-1\n');
    assert.equal(readBootId({ [BOOT_ID_FILE_ENV]: file }), 'boot-test-1');
    assert.equal(readBootId({ [BOOT_ID_FILE_ENV]: file + '.missing' }), undefined);
  });
});
