// The kiosk's systemd unit: valid for systemd (systemd-analyze verify), and
// it asks for what the kiosk implements (notify readiness, watchdog, restart
// always, never giving up, after the network is online).
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO } from '../helpers/processes.js';

const UNIT = path.join(REPO, 'device/systemd/helppoint-kiosk.service');

describe('device: the kiosk systemd unit', () => {
  it('passes systemd-analyze verify', () => {
    const out = execFileSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(out.trim(), '');
  });

  it('is Type=notify with a watchdog, restarts always and waits for network-online.target', () => {
    const text = readFileSync(UNIT, 'utf8');
    const keys = new Map<string, string[]>();
    for (const line of text.split('\n')) {
      const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
      if (m) keys.set(m[1]!, [...(keys.get(m[1]!) ?? []), m[2]!]);
    }
    assert.deepEqual(keys.get('Type'), ['notify']);
    assert.deepEqual(keys.get('NotifyAccess'), ['all'], 'systemd-notify is a child of the kiosk');
    assert.ok(Number(keys.get('WatchdogSec')?.[0]) > 0);
    assert.deepEqual(keys.get('Restart'), ['always']);
    assert.deepEqual(keys.get('StartLimitIntervalSec'), ['0']);
    assert.match(keys.get('After')!.join(' '), /network-online\.target/);
    assert.match(keys.get('Wants')!.join(' '), /network-online\.target/);
  });
});

describe('device: the hub systemd unit', () => {
  const HUB = path.join(REPO, 'device/systemd/helppoint-hub.service');
  it('passes systemd-analyze verify', () => {
    const out = execFileSync('systemd-analyze', ['verify', HUB], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(out.trim(), '');
  });

  it('is Type=notify with a watchdog and restarts always', () => {
    const keys = new Map<string, string[]>();
    for (const line of readFileSync(HUB, 'utf8').split('\n')) {
      const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
      if (m) keys.set(m[1]!, [...(keys.get(m[1]!) ?? []), m[2]!]);
    }
    assert.deepEqual(keys.get('Type'), ['notify']);
    assert.deepEqual(keys.get('NotifyAccess'), ['all']);
    assert.ok(Number(keys.get('WatchdogSec')?.[0]) > 0);
    assert.deepEqual(keys.get('Restart'), ['always']);
    assert.deepEqual(keys.get('StartLimitIntervalSec'), ['0']);
  });
});
