// Which zone page from a SIP phone the gateway takes (src/hub/pa/phone-pages.ts),
// and the hub config's checks of pa.sipPhones.
import { strict as assert } from 'node:assert';
import path from 'node:path';
import { assertedUser, phoneGroupPage, phonePage } from '../../src/hub/pa/phone-pages.js';
import { readMerged } from '../../src/config/load.js';
import { validateHubConfig } from '../../src/config/validate.js';
import { EXAMPLE } from '../helpers/processes.js';

const zones = {
  concourse: { group: '239.1.1.1', port: 5000, priority: 100, emergencyGroup: '239.1.1.11', emergencyPort: 5000, emergencyPriority: 250 },
  platforms: { group: '239.1.1.2', port: 5000, priority: 100, emergencyGroup: '239.1.1.12', emergencyPort: 5000, emergencyPriority: 250 },
};
const phones = [
  { user: 'deskphone', zones: ['concourse'], emergency: false },
  { user: 'control', zones: '*' as const, emergency: true },
];
const h = (pai: string | undefined, zone: string | undefined) => ({ ...(pai !== undefined ? { 'p-asserted-identity': pai } : {}), ...(zone !== undefined ? { 'x-helppoint-page-zone': zone } : {}) });
const decide = (pai: string | undefined, zone: string | undefined, fromServer = true) => phonePage(h(pai, zone), { fromServer, domain: 'sip.example.org', phones, zones });

describe('zone pages from SIP phones: the gateway\'s decision', () => {
  it('reads one asserted SIP URI in the SIP domain', () => {
    assert.equal(assertedUser('<sip:deskphone@sip.example.org>', 'sip.example.org'), 'deskphone');
    assert.equal(assertedUser('"Desk" <sip:deskphone@SIP.example.org:5060;user=phone>', 'sip.example.org'), 'deskphone');
    assert.equal(assertedUser('sip:deskphone@sip.example.org', 'sip.example.org'), 'deskphone');
    assert.equal(assertedUser('<sip:deskphone@elsewhere.org>', 'sip.example.org'), undefined);
    assert.equal(assertedUser('<sip:deskphone@sip.example.org>, <sip:control@sip.example.org>', 'sip.example.org'), undefined);
    assert.equal(assertedUser('<tel:+4930123>', 'sip.example.org'), undefined);
    assert.equal(assertedUser(undefined, 'sip.example.org'), undefined);
  });

  it('takes a listed phone for its zones, with its emergency setting', () => {
    assert.deepEqual(decide('<sip:deskphone@sip.example.org>', 'concourse'), { ok: true, zone: 'concourse', by: 'sip:deskphone', emergency: false });
    assert.deepEqual(decide('<sip:control@sip.example.org>', 'platforms'), { ok: true, zone: 'platforms', by: 'sip:control', emergency: true });
  });

  it('refuses anything else, with the reason', () => {
    assert.match((decide('<sip:deskphone@sip.example.org>', 'concourse', false) as { reason: string }).reason, /not from the site SIP server/);
    assert.match((decide(undefined, 'concourse') as { reason: string }).reason, /no single caller asserted/);
    assert.match((decide('<sip:intruder@sip.example.org>', 'concourse') as { reason: string }).reason, /sip:intruder is not a paging phone/);
    assert.match((decide('<sip:deskphone@sip.example.org>', 'platforms') as { reason: string }).reason, /may not page zone "platforms"/);
    assert.match((decide('<sip:control@sip.example.org>', 'nowhere') as { reason: string }).reason, /no page group for zone "nowhere"/);
    assert.match((decide('<sip:control@sip.example.org>', 'toString') as { reason: string }).reason, /no page group/);
    assert.equal(decide('<sip:deskphone@sip.example.org>', '').ok, false);
  });

  // Zone groups (site zones[].groups) and all-call: every zone named must be the phone's.
  const site = [
    { id: 'concourse', groups: ['public-areas', 'all'] },
    { id: 'platforms', groups: ['public-areas', 'all'] },
    { id: 'depot', groups: ['all', 'staff'] },
    { id: 'office' },
  ];
  const groupPhones = [...phones, { user: 'both', zones: ['concourse', 'platforms'], emergency: false }];
  const hg = (pai: string | undefined, group: string) => ({ ...h(pai, undefined), 'x-helppoint-page-group': group });
  const group = (pai: string | undefined, g: string, fromServer = true, z = zones) => phoneGroupPage(hg(pai, g), { fromServer, domain: 'sip.example.org', phones: groupPhones, zones: z, site });
  const reason = (d: object) => (d as { reason: string }).reason;

  it('takes a group page from a phone listed for every zone of the group, and all-call from a phone with "*"', () => {
    assert.deepEqual(group('<sip:both@sip.example.org>', 'public-areas'), { ok: true, group: 'public-areas', zones: ['concourse', 'platforms'], by: 'sip:both', emergency: false });
    assert.deepEqual(group('<sip:control@sip.example.org>', 'public-areas'), { ok: true, group: 'public-areas', zones: ['concourse', 'platforms'], by: 'sip:control', emergency: true });
    // All-call: every zone of the site with a page group, in the site's order (office and depot have none here).
    assert.deepEqual(group('<sip:control@sip.example.org>', '*'), { ok: true, group: '*', zones: ['concourse', 'platforms'], by: 'sip:control', emergency: true });
    const withDepot = { ...zones, depot: { ...zones.platforms, group: '239.1.1.3' } };
    assert.deepEqual((group('<sip:control@sip.example.org>', '*', true, withDepot) as { zones: string[] }).zones, ['concourse', 'platforms', 'depot']);
  });

  it('refuses a group or all-call the phone may not page whole, with the reason', () => {
    assert.match(reason(group('<sip:deskphone@sip.example.org>', 'public-areas')), /sip:deskphone may not page zone group "public-areas": not its zone\(s\) platforms/);
    assert.match(reason(group('<sip:both@sip.example.org>', '*')), /sip:both may not page all zones/);
    assert.match(reason(group('<sip:deskphone@sip.example.org>', '*')), /may not page all zones/);
    assert.match(reason(group('<sip:control@sip.example.org>', 'nowhere')), /no zone group "nowhere"/);
    assert.match(reason(group('<sip:control@sip.example.org>', '')), /no zone group ""/);
    // A zone of the group that has no page group: the whole group is refused, as a console's page naming it is.
    assert.match(reason(group('<sip:control@sip.example.org>', 'staff')), /zone group "staff": no page group for zone\(s\) depot/);
    assert.match(reason(group('<sip:control@sip.example.org>', 'all')), /no page group for zone\(s\) depot/);
    assert.match(reason(group('<sip:intruder@sip.example.org>', 'public-areas')), /sip:intruder is not a paging phone/);
    assert.match(reason(group('<sip:control@sip.example.org>', 'public-areas', false)), /not from the site SIP server/);
    assert.match(reason(group(undefined, 'public-areas')), /no single caller asserted/);
    // Both headers: the SIP server never sets both.
    const both = phoneGroupPage({ ...hg('<sip:control@sip.example.org>', 'public-areas'), 'x-helppoint-page-zone': 'concourse' }, { fromServer: true, domain: 'sip.example.org', phones: groupPhones, zones, site });
    assert.match(reason(both), /both a zone and a zone group/);
    assert.match(reason(phoneGroupPage(hg('<sip:control@sip.example.org>', '*'), { fromServer: true, domain: 'sip.example.org', phones: groupPhones, zones: {}, site })), /no zone has a page group/);
  });

  it('the hub config: pa.sipPhones off by default; unknown zones, duplicates and no gateway are refused', () => {
    const m = readMerged(path.join(EXAMPLE, 'hub.json'));
    assert.ok(m.ok);
    const doc = m.value as Record<string, any>;
    const ok = validateHubConfig(doc);
    assert.ok(ok.ok);
    assert.deepEqual(ok.value.pa?.sipPhones, []);
    const gateway = { account: { user: 'pa-gateway', password: 'x', domain: 'sip.example.org', registrars: [{ uri: 'sip:127.0.0.1:5060', transport: 'udp' }] } };
    const bad = validateHubConfig({ ...doc, pa: { ...doc.pa, gateway, sipPhones: [{ user: 'a', zones: ['concourse', 'mars'] }, { user: 'a', zones: '*' }] } });
    assert.ok(!bad.ok);
    assert.deepEqual(bad.errors.map((e) => e.path).sort(), ['/pa/sipPhones/0/zones/1', '/pa/sipPhones/1/user']);
    const noGateway = validateHubConfig({ ...doc, pa: { ...doc.pa, sipPhones: [{ user: 'a', zones: '*' }] } });
    assert.ok(!noGateway.ok);
    assert.match(noGateway.errors[0]!.message, /pa\.gateway/);
    const good = validateHubConfig({ ...doc, pa: { ...doc.pa, gateway, sipPhones: [{ user: 'a', zones: ['concourse'], emergency: true }] } });
    assert.ok(good.ok, JSON.stringify(!good.ok && good.errors));
  });
});
