// TLS to the hub with its certificate pinned by the kiosk: the right pin
// connects (even to a self-signed hub), a wrong pin never sends the token.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { start, stopAll, type Managed } from '../../src/testbed/proc.js';
import { freePort } from '../../src/testbed/ports.js';
import { readMerged } from '../../src/config/load.js';
import { CLI, EXAMPLE, REPO, kioskConfigFile, startKioskProcess } from '../helpers/processes.js';
import { tmpDir, sleep } from '../helpers/tmp.js';

describe('hub link over TLS with a pinned certificate', function () {
  this.timeout(90_000);
  let hub: Managed;
  let port: number;
  let pin: string;
  before(async () => {
    const dir = tmpDir('hp-tls-');
    const cert = path.join(dir, 'hub.crt');
    const key = path.join(dir, 'hub.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=hub.test'], { stdio: 'ignore' });
    pin = createHash('sha256').update(new X509Certificate(readFileSync(cert)).raw).digest('hex');
    const m = readMerged(path.join(EXAMPLE, 'hub.json'));
    assert.ok(m.ok);
    port = await freePort();
    const file = path.join(dir, 'hub.json');
    writeFileSync(file, JSON.stringify({ ...(m.value as object), $schema: 'hub.schema.json', listen: { host: '127.0.0.1', port }, tls: { cert, key }, dataDir: path.join(dir, 'data') }));
    hub = start('hub', process.execPath, ['--import', 'tsx', CLI, 'hub', '--config', file], { cwd: REPO });
    await hub.waitFor(/"msg":"ready"/, 60_000);
  });
  after(() => stopAll());

  it('connects to a self-signed hub whose certificate matches the pin', async () => {
    const { file } = kioskConfigFile({ hub: { url: `wss://127.0.0.1:${port}/kiosk`, token: 'demo-token-conc-north-change-me', pinSha256: pin, heartbeatS: 1 } });
    await startKioskProcess(file);
    await hub.waitFor(/"kiosk":"conc-north".*kiosk online/, 10_000);
  });

  it('refuses a hub whose certificate does not match, before sending its token', async () => {
    const wrong = 'ab'.repeat(32);
    const { file } = kioskConfigFile({ hub: { url: `wss://127.0.0.1:${port}/kiosk`, token: 'demo-token-conc-south-change-me', pinSha256: wrong, heartbeatS: 1 } }, 'conc-south');
    const kiosk = await startKioskProcess(file);
    await kiosk.proc.waitFor(/hub certificate refused/, 10_000);
    await sleep(1000);
    assert.doesNotMatch(hub.output(), /"kiosk":"conc-south".*kiosk online/);
    assert.doesNotMatch(hub.output(), /refused: unknown or revoked credentials/, 'no request with the token reached the hub');
  });
});
