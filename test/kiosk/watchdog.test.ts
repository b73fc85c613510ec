// systemd integration of a real kiosk process: READY=1 once the buttons are
// armed (even when the GPIO driver failed), WATCHDOG=1 at half the watchdog
// interval while the event loop is healthy, none while it is blocked. The
// notification socket is a real unix datagram socket; the kiosk sends through
// systemd-notify as it does under systemd.
import { strict as assert } from 'node:assert';
import { kioskConfigFile, startKioskProcess, postJson, type KioskProc } from '../helpers/processes.js';
import { notifySocket, type NotifySocket } from '../helpers/notify-socket.js';
import { until } from '../helpers/tmp.js';

describe('kiosk under systemd: sd_notify readiness and watchdog', function () {
  this.timeout(60_000);
  let sock: NotifySocket;
  let kiosk: KioskProc | undefined;
  beforeEach(async () => {
    sock = await notifySocket();
  });
  afterEach(async () => {
    await kiosk?.stop();
    kiosk = undefined;
    sock.stop();
  });

  it('sends READY=1 and regular WATCHDOG=1; a blocked event loop stops them, and they resume after', async () => {
    const { file } = kioskConfigFile();
    kiosk = await startKioskProcess(file, { NOTIFY_SOCKET: sock.path, WATCHDOG_USEC: '3000000', HELPPOINT_TEST_SEAMS: '1' });
    await until(() => sock.times('READY=1').length === 1, 10_000, 'READY=1');
    assert.ok(sock.messages.find((m) => m.text.includes('READY=1'))!.text.includes('STATUS=buttons armed'));
    await until(() => sock.times('WATCHDOG=1').length >= 3, 15_000, 'three watchdog pings');
    const pings = sock.times('WATCHDOG=1');
    for (let i = 1; i < pings.length; i++) assert.ok(pings[i]! - pings[i - 1]! < 3000, `pings ${pings[i]! - pings[i - 1]!} ms apart: the watchdog (3 s) would fire`);

    const before = sock.times('WATCHDOG=1').length;
    const t0 = Date.now();
    const r = await postJson(kiosk.url + 'test/block', { ms: 5000 });
    const t1 = Date.now();
    assert.equal(r.status, 200);
    // A ping already on its way when the block began may land just after t0; none during the block.
    const during = sock.times('WATCHDOG=1').filter((t) => t > t0 + 500 && t < t1);
    assert.deepEqual(during, [], 'no ping while the loop was blocked');
    assert.ok(sock.times('WATCHDOG=1').length - before <= 1);
    // The stall was seen: the next ping is withheld, not sent as if all were well.
    await kiosk.proc.waitFor(/watchdog ping withheld/, 5000);
    await until(() => sock.times('WATCHDOG=1').some((t) => t > t1), 10_000, 'pings resume once the loop is healthy');
  });

  it('sends READY=1 when the GPIO driver cannot start (the buttons fail, the kiosk runs on)', async () => {
    const { file } = kioskConfigFile({ io: { driver: 'onoff' } });
    kiosk = await startKioskProcess(file, { NOTIFY_SOCKET: sock.path });
    await until(() => sock.times('READY=1').length === 1, 10_000, 'READY=1');
    const h = (await (await fetch(kiosk.url + 'health')).json()) as { faults: { code: string }[] };
    assert.ok(h.faults.some((f) => f.code === 'gpio'));
    assert.equal(sock.times('WATCHDOG=1').length, 0, 'no WATCHDOG_USEC, no pings');
  });
});
