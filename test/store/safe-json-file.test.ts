import { strict as assert } from 'node:assert';
import { writeFileSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SafeJsonFile } from '../../src/store/safe-json-file.js';
import { KioskStore } from '../../src/store/kiosk-store.js';
import { tmpDir, sleep } from '../helpers/tmp.js';

const writer = path.join(path.dirname(fileURLToPath(import.meta.url)), 'config-writer.ts');

describe('store: safe JSON files', () => {
  it('moves a corrupt file aside and uses the newest good copy', async () => {
    const dir = tmpDir('hp-store-');
    const f = new SafeJsonFile<{ v: number }>(path.join(dir, 'doc.json'));
    await f.write({ v: 1 });
    await f.write({ v: 2 });
    writeFileSync(path.join(dir, 'doc.json'), '{"v": 3, "trunc');
    const reports: unknown[] = [];
    const g = new SafeJsonFile<{ v: number }>(path.join(dir, 'doc.json'), (r) => reports.push(r));
    assert.deepEqual(g.readSync(), { v: 1 }); // doc.json.bak holds the write before the corrupt one
    assert.equal(reports.length, 1);
    assert.ok(readdirSync(dir).some((n) => n.startsWith('doc.json.corrupt-')));
  });

  it('treats an empty (truncated to zero) file as corrupt, not as a fresh start', () => {
    const dir = tmpDir('hp-store-');
    writeFileSync(path.join(dir, 'doc.json.bak'), '{"v":7}');
    writeFileSync(path.join(dir, 'doc.json'), '');
    const g = new SafeJsonFile<{ v: number }>(path.join(dir, 'doc.json'));
    assert.deepEqual(g.readSync(), { v: 7 });
  });

  it('a first start with no files is not a recovery', () => {
    const dir = tmpDir('hp-store-');
    const reports: unknown[] = [];
    const g = new SafeJsonFile(path.join(dir, 'doc.json'), (r) => reports.push(r));
    assert.equal(g.readSync(), null);
    assert.equal(reports.length, 0);
  });

  it('coalesces concurrent writes and ends with the last one', async () => {
    const dir = tmpDir('hp-store-');
    const f = new SafeJsonFile<{ v: number }>(path.join(dir, 'doc.json'));
    await Promise.all(Array.from({ length: 20 }, (_, i) => f.write({ v: i })));
    assert.deepEqual(JSON.parse(readFileSync(path.join(dir, 'doc.json'), 'utf8')), { v: 19 });
  });

  it('survives 50 SIGKILLs at random moments during config writes', async function () {
    this.timeout(240_000);
    const dir = tmpDir('hp-kill-');
    let lastSeen = -1;
    for (let i = 0; i < 50; i++) {
      const child = fork(writer, [dir], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
      await new Promise<void>((resolve) => child.once('message', () => resolve())); // one config written, more being written
      await sleep(Math.random() * 60);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      // The next start must read a complete config, at least as new as any seen before.
      const store = new KioskStore(dir, 'conc-north').open();
      const cfg = store.config.data.config as unknown as { configVersion: number; padding: string } | null;
      assert.ok(cfg, `run ${i}: no readable config (files: ${readdirSync(dir).join(', ')})`);
      assert.equal(cfg.padding.length, 20_000, `run ${i}: config incomplete`);
      assert.ok(cfg.configVersion >= lastSeen, `run ${i}: went back from ${lastSeen} to ${cfg.configVersion}`);
      lastSeen = cfg.configVersion;
    }
    assert.ok(lastSeen > 0, 'the writer never completed a write');
    assert.ok(existsSync(path.join(dir, 'config.json')) || existsSync(path.join(dir, 'config.json.bak')));
  });
});
