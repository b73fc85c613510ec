import { strict as assert } from 'node:assert';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveGpioBase } from '../../src/io/gpio-base.js';
import { loadBoardProfile } from '../../src/config/boards.js';
import { OnoffDriver, type GpioClass } from '../../src/io/onoff-driver.js';
import { testConfig } from './harness.js';

function sysfs(chips: Record<string, [string, number]>): string {
  const dir = mkdtempSync(path.join(process.env.HP_TEST_TMP ?? os.tmpdir(), 'sysfs-'));
  for (const [name, [label, base]] of Object.entries(chips)) {
    mkdirSync(path.join(dir, name));
    writeFileSync(path.join(dir, name, 'label'), label + '\n');
    writeFileSync(path.join(dir, name, 'base'), `${base}\n`);
  }
  return dir;
}

describe('onoff driver set-up', () => {
  it('finds the GPIO chip base of a Pi 5 on a new kernel (571) and of a Pi 4 (512)', () => {
    const dir = sysfs({ gpiochip512: ['pinctrl-bcm2711', 512], gpiochip571: ['pinctrl-rp1', 571], gpiochip0: ['raspberrypi-exp-gpio', 504] });
    assert.equal(resolveGpioBase(loadBoardProfile('rpi5'), dir), 571);
    assert.equal(resolveGpioBase(loadBoardProfile('rpi4'), dir), 512);
  });

  it('says which chip it could not find instead of guessing', () => {
    const dir = sysfs({ gpiochip0: ['something-else', 0] });
    assert.throws(() => resolveGpioBase(loadBoardProfile('rpi5'), dir), /pinctrl-rp1/);
  });

  it('refuses to start with a clear message where GPIO is not accessible', async () => {
    class NoGpio {
      static accessible = false;
    }
    const d = new OnoffDriver(testConfig({ driver: 'onoff', board: 'rpi4' }).io, NoGpio as unknown as GpioClass);
    await assert.rejects(d.open(), /GPIO is not accessible.*use io.driver "sim"/);
  });

  it('the real onoff module loads here and reports GPIO as not accessible', async () => {
    const { Gpio } = await import('onoff');
    assert.equal(Gpio.accessible, false);
  });
});
