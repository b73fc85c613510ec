// sip.tls in the config check: its files (relative to the config file) are
// checked when the config is loaded and by `helppoint config validate`, each
// problem at its path; a config without sip.tls needs no files.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigFileError, loadKioskConfig, validateFile } from '../../src/config/load.js';
import { validateKioskConfig } from '../../src/config/validate.js';
import { readSipTls } from '../../src/intercom/tls-files.js';
import { CLI, REPO, kioskConfigFile } from '../helpers/processes.js';
import { tmpDir } from '../helpers/tmp.js';
import { makeCa, makeLeaf } from '../helpers/tls-certs.js';

describe('config: sip.tls', function () {
  this.timeout(30_000);
  const certs = tmpDir('hp-tls-files-');
  const ca = makeCa(certs, 'site-ca');
  makeLeaf(certs, 'kiosk', ca, 'IP:127.0.0.1');
  makeLeaf(certs, 'stranger', ca, 'IP:127.0.0.1'); // its key is not kiosk.pem's
  writeFileSync(path.join(certs, 'not-pem.pem'), 'hello\n');

  /** A kiosk config file with sip.tls, the certificate files copied next to it (relative paths). */
  function file(tls: Record<string, unknown>): string {
    const { file, dir } = kioskConfigFile({ sip: { tls } });
    for (const f of ['site-ca.pem', 'kiosk.pem', 'kiosk.key', 'stranger.key', 'not-pem.pem']) copyFileSync(path.join(certs, f), path.join(dir, f));
    return file;
  }

  it('loads with files relative to the config file, and the transport reads them', () => {
    const f = file({ ca: 'site-ca.pem', cert: 'kiosk.pem', key: 'kiosk.key', serverPins: ['AB:'.repeat(31) + 'AB'] });
    const { config, dir } = loadKioskConfig(f);
    assert.equal(config.sip.tls?.ca, 'site-ca.pem');
    const m = readSipTls(config.sip.tls, dir)!;
    assert.equal(m.ca?.length, 1);
    assert.ok(m.cert && m.key);
    assert.deepEqual(m.serverPins, ['ab'.repeat(32)]);
    assert.deepEqual(validateFile(f).errors, []);
  });

  const broken: [string, Record<string, unknown>, string, RegExp][] = [
    ['a CA file that does not exist', { ca: 'no-such-ca.pem' }, '/sip/tls/ca', /no-such-ca\.pem: .*ENOENT/],
    ['a CA file that is not PEM', { ca: ['site-ca.pem', 'not-pem.pem'] }, '/sip/tls/ca/1', /not-pem\.pem: holds no PEM certificate/],
    ['a certificate without its key', { ca: 'site-ca.pem', cert: 'kiosk.pem' }, '/sip/tls/key', /set both or neither/],
    ['a key that is not the certificate\'s', { cert: 'kiosk.pem', key: 'stranger.key' }, '/sip/tls/key', /is not the private key of kiosk\.pem/],
    ['a key file that is not a key', { cert: 'kiosk.pem', key: 'not-pem.pem' }, '/sip/tls/key', /not a usable private key/],
    ['a malformed pin', { ca: 'site-ca.pem', serverPins: ['abcd'] }, '/sip/tls/serverPins/0', /pattern/],
    ['an unknown setting', { ca: 'site-ca.pem', insecure: true }, '/sip/tls/insecure', /not a known setting/],
  ];
  for (const [what, tls, at, message] of broken) {
    it(`refuses ${what} at load time, at ${at}`, () => {
      const f = file(tls);
      assert.throws(
        () => loadKioskConfig(f),
        (err: unknown) => err instanceof ConfigFileError && err.errors.some((e) => e.path === at && message.test(e.message)) || assert.fail(JSON.stringify((err as ConfigFileError).errors ?? String(err))),
      );
      assert.ok(validateFile(f).errors.some((e) => e.path === at), JSON.stringify(validateFile(f).errors));
    });
  }

  it('the CLI config check names the missing file at its path and exits non-zero', () => {
    const f = file({ ca: 'no-such-ca.pem' });
    let out = '';
    let code = 0;
    try {
      execFileSync(process.execPath, ['--import', 'tsx', CLI, 'config', 'validate', f], { cwd: REPO, encoding: 'utf8' });
    } catch (err) {
      ({ status: code, stdout: out } = err as { status: number; stdout: string });
    }
    assert.notEqual(code, 0);
    assert.match(out, /\/sip\/tls\/ca.*no-such-ca\.pem/);
  });

  it('without the config folder (the hub composing a config) the files are not looked at', () => {
    const { config } = kioskConfigFile({ sip: { tls: { ca: 'elsewhere.pem' } } });
    assert.equal(validateKioskConfig(config).ok, true);
  });
});
