// The polkit rule that lets the kiosk's user reboot the board (the hub's
// kiosk.reboot runs `systemctl reboot`, which logind checks with polkit). The
// rule is evaluated here as polkitd runs it (plain JavaScript calling
// polkit.addRule): yes for the reboot actions of the kiosk unit's user,
// nothing (polkit's own default) for anyone or anything else.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { REPO } from '../helpers/processes.js';

type Rule = (action: { id: string }, subject: { user: string }) => unknown;

describe('device: the polkit rule for reboots from the hub', () => {
  const rules: Rule[] = [];
  const polkit = { Result: { YES: 'yes', NO: 'no', NOT_HANDLED: null }, addRule: (r: Rule) => rules.push(r) };
  vm.runInNewContext(readFileSync(path.join(REPO, 'device/polkit/50-helppoint-reboot.rules'), 'utf8'), { polkit });
  const decide = (id: string, user: string) => rules.map((r) => r({ id }, { user })).find((x) => x !== undefined && x !== null);

  it('lets the kiosk unit\'s user reboot, and nothing else', () => {
    const unit = readFileSync(path.join(REPO, 'device/systemd/helppoint-kiosk.service'), 'utf8');
    const user = /^User=(.+)$/m.exec(unit)![1]!.trim();
    assert.equal(rules.length, 1);
    for (const a of ['org.freedesktop.login1.reboot', 'org.freedesktop.login1.reboot-multiple-sessions', 'org.freedesktop.login1.reboot-ignore-inhibit']) assert.equal(decide(a, user), 'yes', a);
    assert.equal(decide('org.freedesktop.login1.power-off', user), undefined);
    assert.equal(decide('org.freedesktop.systemd1.manage-units', user), undefined);
    assert.equal(decide('org.freedesktop.login1.reboot', 'www-data'), undefined);
  });
});
