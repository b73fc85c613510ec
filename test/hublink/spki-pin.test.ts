// Kiosks pin the hub by its public key (SPKI SHA-256) with room for a backup:
// the hub pushes the next key's pin ahead of a key change, then switches to a
// new certificate and key, and the kiosk follows without a visit. Clip
// downloads go through the same pinned trust. A hub whose key matches no pin
// never sees the kiosk's token.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { start, stopAll, type Managed } from '../../src/testbed/proc.js';
import { freePort } from '../../src/testbed/ports.js';
import { readMerged } from '../../src/config/load.js';
import { spkiPin } from '../../src/hublink/pinning.js';
import { encodeWav } from '../../src/audio/wav.js';
import { CLI, EXAMPLE, REPO, kioskConfigFile, startKioskProcess } from '../helpers/processes.js';
import { tmpDir, until } from '../helpers/tmp.js';
import { consoleLogin } from '../helpers/console.js';

function keyPair(dir: string, name: string): { cert: string; key: string; pin: string } {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`], { stdio: 'ignore' });
  return { cert, key, pin: spkiPin(new X509Certificate(readFileSync(cert))) };
}

describe('hub link: public-key pins with a backup pin pushed ahead of a key change', function () {
  this.timeout(120_000);
  after(() => stopAll());

  it('follows the hub to a new key announced in advance, fetches clips through the pin, and refuses an unpinned key', async () => {
    const dir = tmpDir('hp-spki-');
    const a = keyPair(dir, 'hub-a');
    const b = keyPair(dir, 'hub-b');
    const c = keyPair(dir, 'stranger');
    const m = readMerged(path.join(EXAMPLE, 'hub.json'));
    assert.ok(m.ok);
    const port = await freePort();
    const kiosks = (m.value as { kiosks: { config?: string }[] }).kiosks.map((k) => ({ ...k, config: k.config && path.join(EXAMPLE, k.config) }));
    const hubFile = (tls: { cert: string; key: string }) => {
      const file = path.join(dir, 'hub.json');
      writeFileSync(file, JSON.stringify({ ...(m.value as object), kiosks, $schema: 'hub.schema.json', listen: { host: '127.0.0.1', port }, tls: { cert: tls.cert, key: tls.key }, dataDir: path.join(dir, 'data') }));
      return file;
    };
    const startHub = async (tls: { cert: string; key: string }): Promise<Managed> => {
      const p = start('hub', process.execPath, ['--import', 'tsx', CLI, 'hub', '--config', hubFile(tls)], { cwd: REPO });
      await p.waitFor(/"msg":"ready"/, 60_000);
      return p;
    };
    let hub = await startHub(a);
    const base = `https://127.0.0.1:${port}`;
    const url = `wss://127.0.0.1:${port}/kiosk`;
    const hubLink = { url, token: 'demo-token-conc-north-change-me', pins: [a.pin], heartbeatS: 1 };
    const { file, dir: kdir } = kioskConfigFile({ hub: hubLink });
    const kiosk = await startKioskProcess(file);
    await hub.waitFor(/"kiosk":"conc-north".*kiosk online/, 15_000);

    // The console (the test's fetch) talks to the self-signed hub without checking it: only kiosks pin.
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    try {
      const facilities = await consoleLogin(base, 'facilities', 'facilities-demo');
      // Announce the next key: the kiosk now trusts a and b.
      // The kiosk's file has the example's wayfinding map at an absolute path; a relative one would not resolve from its folder.
      const keep = { local: { port: 0 }, dataDir: path.join(kdir, 'data'), sip: { localPort: 0 }, display: { wayfinding: path.join(EXAMPLE, 'wayfinding.json') } };
      const r = await facilities.post('/api/kiosks/conc-north/config', { ...keep, hub: { ...hubLink, token: undefined, pins: [a.pin, b.pin] } });
      assert.equal(r.status, 202);
      await until(async () => (await facilities.json<{ acked: boolean }>('/api/kiosks/conc-north/config')).acked, 10_000, 'pins pushed and acked');

      // Key change: the hub restarts with certificate and key b.
      await hub.stop();
      hub = await startHub(b);
      await hub.waitFor(/"kiosk":"conc-north".*kiosk online/, 40_000);

      // A clip is fetched through the same pinned trust.
      const dispatcher = await consoleLogin(base, 'dispatcher', 'dispatcher-demo');
      const wav = encodeWav({ rate: 16000, samples: Int16Array.from({ length: 4000 }, (_, i) => Math.round(5000 * Math.sin(i / 4))) });
      const up = (await (await dispatcher.post('/api/clips', new Uint8Array(wav))).json()) as { sha256: string; url: string };
      const cmd = (await (await dispatcher.post('/api/commands', { kiosks: ['conc-north'], command: 'pa.play', args: { channel: 'announcement', clip: { sha256: up.sha256, url: base + up.url }, chime: false } })).json()) as { id: string };
      await until(
        async () => (await dispatcher.json<{ type: string; data: { id?: string } }[]>('/api/events?kiosk=conc-north&type=pa.started')).find((e) => e.data.id === cmd.id),
        15_000,
        'clip played after the key change',
      ).catch((err) => {
        console.log(kiosk.proc.output().split('\n').filter((l) => /clip|pa\.|command/.test(l)).slice(-10).join('\n'));
        throw err;
      });
    } finally {
      delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    }
    await kiosk.stop();

    // A kiosk pinned to another key refuses the hub before sending its token.
    const { file: f2 } = kioskConfigFile({ hub: { url, token: 'demo-token-conc-south-change-me', pins: [c.pin], heartbeatS: 1 } }, 'conc-south');
    const k2 = await startKioskProcess(f2);
    await k2.proc.waitFor(/hub certificate refused/, 15_000);
    assert.doesNotMatch(hub.output(), /"kiosk":"conc-south".*kiosk online/);
    assert.doesNotMatch(hub.output(), /refused: unknown or revoked credentials/, 'no request with the token reached the hub');
  });
});
