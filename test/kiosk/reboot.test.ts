// The kiosk's side of kiosk.reboot on an in-process kiosk (the process test
// in test/hublink/reboot.test.ts covers the same through a hub): refused
// while a live page plays (the command not run), then handed to the system;
// each step is a recorded event, on disk before the command runs.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Kiosk } from '../../src/kiosk/app.js';
import { loadKioskConfig } from '../../src/config/load.js';
import { readJournal } from '../../src/store/event-journal.js';
import { kioskConfigFile } from '../helpers/processes.js';
import { tmpDir } from '../helpers/tmp.js';

describe('kiosk.reboot on an in-process kiosk', function () {
  this.timeout(30_000);
  let kiosk: Kiosk | undefined;
  after(async () => kiosk?.stop());

  it('refused while a page plays; then recorded, flushed and handed to the system', async () => {
    const dir = tmpDir('hp-reboot-kiosk-');
    const calls = path.join(dir, 'calls');
    const script = path.join(dir, 'reboot.mjs');
    // The script sees the journal as it is when the command runs: kiosk.reboot must be on disk by then.
    writeFileSync(
      script,
      [
        "import { appendFileSync, readdirSync, readFileSync } from 'node:fs';",
        'const [calls, dir] = process.argv.slice(2);',
        "const text = readdirSync(dir).filter((f) => f.startsWith('seg-')).map((f) => readFileSync(dir + '/' + f, 'utf8')).join('');",
        "appendFileSync(calls, text.includes('\"kiosk.reboot\"') ? 'journal-has-it\\n' : 'journal-lacks-it\\n');",
      ].join('\n'),
    );
    const c = kioskConfigFile({ log: { level: 'silent' }, audio: { output: { sink: 'null', rate: 16000 }, input: { source: 'silence' } } });
    const data = path.join(c.dir, 'data');
    const cfg = loadKioskConfig(c.file);
    cfg.config.system = { rebootCommand: [process.execPath, script, calls, path.join(data, 'journal')] };
    kiosk = new Kiosk({ config: cfg.config, configDir: cfg.dir, localPort: 0, logDestination: { write: () => undefined } as never });
    await kiosk.start();
    assert.ok(existsSync(path.join(data, 'journal')), 'the journal is where the script reads it');

    const page = kiosk.audio!.mixer.openChannel({ channel: 'page', rate: 16000, id: 'page-1', live: true });
    assert.equal(await kiosk.ctx.reboot('hub:facilities'), 'reboot refused: page page-1 playing');
    assert.ok(!existsSync(calls), 'not run');
    page.close();

    assert.equal(await kiosk.ctx.reboot('hub:facilities'), undefined);
    assert.equal(readFileSync(calls, 'utf8'), 'journal-has-it\n');
    const events = readJournal(data).events.filter((e) => e.type.startsWith('kiosk.reboot'));
    assert.deepEqual(events.map((e) => [e.type, (e.data as { by: string }).by]), [
      ['kiosk.reboot.refused', 'hub:facilities'],
      ['kiosk.reboot', 'hub:facilities'],
    ]);
    assert.deepEqual((events[1]!.data as { command: string[] }).command.slice(1), [script, calls, path.join(data, 'journal')]);
  });
});
