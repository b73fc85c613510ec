// Config layers at the hub and their staged rollout, through the console API,
// with light kiosks that report their health window like real ones:
// provenance of every value, validation before anything is stored, canaries
// first, a failing canary stops the rollout and gets its previous config back,
// two changes to different layers both hold, a rollback to version N gives the
// effective config of then, a rollout survives a hub restart, roles and audit.
import { strict as assert } from 'node:assert';
import { consoleLogin, type ConsoleSession } from '../helpers/console.js';
import { DEMO_TOKEN, engines, startHub, type TestHub } from '../hub/harness.js';
import { healthKiosk, sleep, until, type HealthKiosk } from './helpers.js';

const PLAT = ['plat-1', 'plat-2', 'plat-3'];
const CONC = ['conc-north', 'conc-south', 'conc-tickets'];
const emergency = (ringTimeoutS: number) => ({ sip: { targets: { emergency: [{ uri: 'sip:desk@127.0.0.1:5070', ringTimeoutS, name: 'Station desk' }] } } });

interface RolloutReply {
  id: string;
  state: string;
  reason: string;
  version: number;
  kiosks: { kiosk: string; stage: string; state: string; detail: string; version: number | null }[];
}

for (const engine of engines()) {
  describe(`facilities: config layers and staged rollout (${engine.name})`, function () {
    this.timeout(180_000);
    let t: TestHub;
    let fac: ConsoleSession;
    let disp: ConsoleSession;
    const k: Record<string, HealthKiosk> = {};

    const connect = async (ids: string[]) => {
      for (const id of ids) k[id] = healthKiosk(t.wsUrl, id, DEMO_TOKEN(id));
      await Promise.all(ids.map((id) => k[id]!.welcomed));
      // online at the hub (presence written)
      await until(async () => (await fac.json<{ kiosks: { id: string; online: boolean }[] }>('/api/facilities/fleet')).kiosks.filter((x) => ids.includes(x.id) && x.online).length === ids.length, 10_000, 'kiosks online');
    };
    const rollout = (id: string) => fac.json<RolloutReply>(`/api/facilities/rollouts/${id}`);
    const finished = (id: string, timeoutMs = 20_000) => until(async () => { const r = await rollout(id); return ['done', 'failed'].includes(r.state) && r; }, timeoutMs, `rollout ${id} to finish`, 100);

    before(async () => {
      t = await startHub({ databaseUrl: await engine.fresh() });
      fac = await consoleLogin(t.base, 'facilities', 'facilities-demo');
      disp = await consoleLogin(t.base, 'dispatcher', 'dispatcher-demo');
      await connect([...PLAT, ...CONC]);
    });
    after(async () => {
      for (const x of Object.values(k)) x.ws.terminate();
      await t.stop();
    });

    it('a dispatcher cannot open the editor or change a layer (403); a facilities user can', async () => {
      assert.equal((await disp.get('/facilities/editor')).status, 403);
      assert.equal((await disp.post('/api/facilities/rollouts', { scope: 'zone', target: 'platforms', document: {} })).status, 403);
      assert.equal((await disp.post('/api/facilities/preview', { scope: 'zone', target: 'platforms', document: {} })).status, 403);
      assert.equal((await disp.get('/facilities')).status, 200, 'dispatchers see the map');
      const page = await fac.get('/facilities/editor');
      assert.equal(page.status, 200);
      assert.match(await page.text(), /facilities\/editor\.js/);
    });

    it('an invalid value is refused with its path; nothing is stored or pushed', async () => {
      const before = (await fac.json<unknown[]>('/api/facilities/layers?scope=zone&target=platforms')).length;
      const sent = PLAT.map((id) => k[id]!.configs.length);
      const r = await fac.post('/api/facilities/rollouts', { scope: 'zone', target: 'platforms', document: emergency(0), canary: null });
      assert.equal(r.status, 400);
      const body = (await r.json()) as { errors: { path: string; message: string; kiosks: string[] }[] };
      assert.deepEqual(body.errors.map((e) => e.path), ['/sip/targets/emergency/0/ringTimeoutS']);
      assert.deepEqual(body.errors[0]!.kiosks.sort(), PLAT);
      // A cross-reference only `helppoint config validate` knows (not the JSON Schema): an unknown zone.
      const x = await fac.post('/api/facilities/preview', { scope: 'zone', target: 'platforms', document: { pa: { multicast: [{ group: '239.1.1.1', port: 5004, priority: 10, zone: 'no-such-zone' }] } } });
      const xe = ((await x.json()) as { errors: { path: string; message: string }[] }).errors;
      assert.ok(xe.some((e) => e.path === '/pa/multicast/0/zone' && /unknown zone/.test(e.message)), JSON.stringify(xe));
      await sleep(500);
      assert.equal((await fac.json<unknown[]>('/api/facilities/layers?scope=zone&target=platforms')).length, before, 'no layer version stored');
      assert.deepEqual(PLAT.map((id) => k[id]!.configs.length), sent, 'nothing pushed');
      const admin = await consoleLogin(t.base, 'admin', 'admin-demo');
      const audit = await admin.json<{ action: string; result: string }[]>('/api/audit?action=config.rollout.zone');
      assert.ok(audit.some((a) => a.result.startsWith('refused: invalid')), JSON.stringify(audit));
    });

    it('canary first: the rest get the change only after the canary reported healthy', async () => {
      k['plat-1']!.windowMs = 1500;
      const r = await fac.post('/api/facilities/rollouts', { scope: 'zone', target: 'platforms', document: emergency(7), comment: 'shorter ring', canary: { kiosks: ['plat-1'] } });
      assert.equal(r.status, 202, await r.clone().text());
      const ro = (await r.json()) as RolloutReply;
      assert.equal(ro.state, 'canary');
      await until(() => k['plat-1']!.configs.length > 0, 5000, 'the canary receives the change');
      assert.equal((k['plat-1']!.configs.at(-1)!.document.sip as { targets: { emergency: { ringTimeoutS: number }[] } }).targets.emergency[0]!.ringTimeoutS, 7);
      await sleep(800); // inside the canary's health window
      assert.equal(k['plat-2']!.configs.length + k['plat-3']!.configs.length, 0, 'the rest wait for the canary');
      assert.equal((await rollout(ro.id)).state, 'canary');
      const done = await finished(ro.id);
      assert.equal(done.state, 'done', done.reason);
      for (const id of ['plat-2', 'plat-3']) assert.equal((k[id]!.configs.at(-1)!.document.sip as { targets: { emergency: { ringTimeoutS: number }[] } }).targets.emergency[0]!.ringTimeoutS, 7);
      for (const id of CONC) assert.equal(k[id]!.configs.length, 0, `${id} (other zone) untouched`);
      // Provenance: the value comes from the zone layer, others from the file or the schema.
      const e = await fac.json<{ sources: Record<string, string>; document: { sip: { targets: { emergency: { ringTimeoutS: number }[] } } } }>('/api/facilities/kiosks/plat-2/effective');
      assert.equal(e.document.sip.targets.emergency[0]!.ringTimeoutS, 7);
      assert.equal(e.sources['/sip/targets/emergency/0/ringTimeoutS'], `zone:platforms@${ro.version}`);
      assert.equal(e.sources['/sip/localHost'], 'file');
      assert.equal(e.sources['/hub/configHealthWindowS'], 'default');
      k['plat-1']!.windowMs = 300;
    });

    it('a failing canary stops the rollout, gets its previous config pushed again, the others never receive it, and the reason is shown', async () => {
      const layersBefore = await fac.json<{ version: number; current: boolean }[]>('/api/facilities/layers?scope=zone&target=platforms');
      const current = layersBefore.find((l) => l.current)!.version;
      const seen = { 'plat-2': k['plat-2']!.configs.length, 'plat-3': k['plat-3']!.configs.length };
      const canaryBefore = k['plat-1']!.configs.at(-1)!.document;
      k['plat-1']!.verdict = 'rollback';
      const r = await fac.post('/api/facilities/rollouts', { scope: 'zone', target: 'platforms', document: { ...emergency(7), sip: { ...emergency(7).sip, account: { registrars: [{ uri: 'sip:127.0.0.1:9' }] } } }, canary: { kiosks: ['plat-1'] } });
      assert.equal(r.status, 202, await r.clone().text());
      const ro = (await r.json()) as RolloutReply;
      const done = await finished(ro.id);
      k['plat-1']!.verdict = 'healthy';
      assert.equal(done.state, 'failed');
      assert.match(done.reason, /plat-1 rolled back by itself.*SIP not registered/);
      const canary = done.kiosks.find((x) => x.kiosk === 'plat-1')!;
      assert.equal(canary.state, 'rolled-back');
      assert.match(canary.detail, /previous config pushed again/);
      // The hub pushed the previous document again, under a new version.
      await until(() => k['plat-1']!.configs.length >= 2 && JSON.stringify(k['plat-1']!.configs.at(-1)!.document) === JSON.stringify(canaryBefore), 5000, 'the previous config back on the canary');
      await sleep(500);
      assert.equal(k['plat-2']!.configs.length, seen['plat-2'], 'plat-2 never received it');
      assert.equal(k['plat-3']!.configs.length, seen['plat-3'], 'plat-3 never received it');
      const layers = await fac.json<{ version: number; state: string; current: boolean }[]>('/api/facilities/layers?scope=zone&target=platforms');
      assert.equal(layers.find((l) => l.current)!.version, current, 'the current version did not change');
      assert.equal(layers.find((l) => l.version === ro.version)!.state, 'abandoned');
    });

    it('two pushes in a row to different layers both hold', async () => {
      const a = (await (await fac.post('/api/facilities/rollouts', { scope: 'zone', target: 'concourse', document: { sip: { callTimeLimitS: 480 } }, canary: null })).json()) as RolloutReply;
      const b = (await (await fac.post('/api/facilities/rollouts', { scope: 'kiosk', target: 'conc-north', document: { audio: { volume: 0.5 } }, canary: null })).json()) as RolloutReply;
      assert.equal((await finished(a.id)).state, 'done');
      assert.equal((await finished(b.id)).state, 'done');
      const last = k['conc-north']!.configs.at(-1)!.document as { sip: { callTimeLimitS: number }; audio: { volume: number } };
      assert.equal(last.sip.callTimeLimitS, 480, 'the zone change holds');
      assert.equal(last.audio.volume, 0.5, 'the kiosk change holds');
      const south = k['conc-south']!.configs.at(-1)!.document as { sip: { callTimeLimitS: number } };
      assert.equal(south.sip.callTimeLimitS, 480);
    });

    it('rollback of a layer to version N gives exactly the effective config it had then', async () => {
      const eff = async () => (await fac.json<{ document: unknown }>('/api/facilities/kiosks/conc-south/effective')).document;
      const v = async (doc: unknown) => {
        const r = (await (await fac.post('/api/facilities/rollouts', { scope: 'zone', target: 'concourse', document: doc, canary: null })).json()) as RolloutReply;
        assert.equal((await finished(r.id)).state, 'done');
        return r.version;
      };
      const n = await v({ sip: { callTimeLimitS: 300 }, display: { defaultLanguage: 'en' } });
      const then = await eff();
      await v({ sip: { callTimeLimitS: 200 } });
      await v({ audio: { volume: 0.3 } });
      assert.notDeepEqual(await eff(), then);
      const r = await fac.post(`/api/facilities/layers/zone/concourse/rollback`, { version: n });
      assert.equal(r.status, 202, await r.clone().text());
      const ro = (await r.json()) as RolloutReply;
      assert.equal((await finished(ro.id)).state, 'done');
      assert.deepEqual(await eff(), then);
      // and the kiosk was sent that document
      const sent = k['conc-south']!.configs.at(-1)!.document as { sip: { callTimeLimitS: number } };
      assert.equal(sent.sip.callTimeLimitS, 300);
      const audit = await (await consoleLogin(t.base, 'admin', 'admin-demo')).json<{ action: string; target: string }[]>('/api/audit?action=config.rollback.zone');
      assert.ok(audit.some((x) => x.target === 'concourse'));
    });

    it('the fleet stream pushes a kiosk whose fault appears, and a revoked kiosk leaves the online fleet within 1 s', async () => {
      const ctrl = new AbortController();
      const res = await fetch(`${t.base}/api/facilities/stream`, { headers: { cookie: fac.cookie, accept: 'text/event-stream' }, signal: ctrl.signal });
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      let text = '';
      // Kiosk entries pushed on the stream ("kiosks" events)
      const pushed = () =>
        text
          .split('\n\n')
          .filter((b) => b.startsWith('event: kiosks\n'))
          .flatMap((b) => JSON.parse(b.slice(b.indexOf('data: ') + 6)) as { id: string; state: string }[]);
      // One read at a time: a read that loses the race against the clock is kept for the next turn.
      let reading: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;
      const got = (id: string, state: string, ms: number) =>
        until(async () => {
          reading ??= reader.read();
          const r = await Promise.race([reading, sleep(50).then(() => undefined)]);
          if (r) {
            reading = undefined;
            if (!r.done) text += new TextDecoder().decode(r.value);
          }
          return pushed().some((e) => e.id === id && e.state === state);
        }, ms, `${id} ${state} on the stream`, 0);
      await sleep(300);
      k['conc-tickets']!.fault('audio');
      await got('conc-tickets', 'fault', 3000);
      const admin = await consoleLogin(t.base, 'admin', 'admin-demo');
      const t0 = Date.now();
      assert.equal((await admin.post('/api/kiosks/plat-3/revoke', {})).status, 200);
      await until(async () => !(await fac.json<{ kiosks: { id: string; online: boolean }[] }>('/api/facilities/fleet')).kiosks.find((x) => x.id === 'plat-3')!.online, 1000, 'plat-3 offline in the fleet');
      assert.ok(Date.now() - t0 <= 1000);
      await got('plat-3', 'revoked', 2000);
      ctrl.abort();
    });

    it('enrol a kiosk (token shown once), replace its hardware (new token, same identity and history)', async () => {
      const r = await fac.post('/api/kiosks', { id: 'plat-9', zone: 'platforms', location: { text: { en: 'Platform 9' }, x: 160, y: 110 }, baseConfig: 'kiosks/plat-1.json' });
      assert.equal(r.status, 201, await r.clone().text());
      const { token } = (await r.json()) as { token: string };
      const first = healthKiosk(t.wsUrl, 'plat-9', token);
      await first.welcomed;
      first.send({ type: 'events', batch: [{ id: 'plat-9:old:1', seq: 1, at: new Date().toISOString(), type: 'button.press', data: { button: 'information' } }] });
      await sleep(300);
      const rep = await fac.post('/api/facilities/kiosks/plat-9/replace', {});
      assert.equal(rep.status, 200);
      const fresh = (await rep.json()) as { token: string; configVersion?: number };
      assert.notEqual(fresh.token, token);
      assert.ok(fresh.configVersion, 'the current config is queued for the new box');
      const closed = await first.closed;
      assert.equal(closed.code, 4004, 'the old box is disconnected');
      const stale = healthKiosk(t.wsUrl, 'plat-9', token);
      await assert.rejects(stale.welcomed, /HTTP 401/, 'the old token is refused');
      const second = healthKiosk(t.wsUrl, 'plat-9', fresh.token);
      await second.welcomed;
      await until(() => second.configs.some((c) => c.version === fresh.configVersion), 5000, 'the new box gets the current config at hello');
      const events = await fac.json<{ id: string }[]>('/api/events?kiosk=plat-9');
      assert.ok(events.some((e) => e.id === 'plat-9:old:1'), 'history kept');
      second.ws.terminate();
      k['plat-9-gone'] = second;
    });

    it('a rollout survives a hub restart: the canary stage goes on in the new process', async function () {
      if (engine.name !== 'pglite') this.skip(); // one engine is enough for this one (the state is the same SQL)
      k['conc-north']!.verdict = 'silent';
      const r = (await (await fac.post('/api/facilities/rollouts', { scope: 'zone', target: 'concourse', document: { sip: { callTimeLimitS: 240 } }, canary: { kiosks: ['conc-north'] } })).json()) as RolloutReply;
      await until(() => (k['conc-north']!.configs.at(-1)!.document.sip as { callTimeLimitS: number }).callTimeLimitS === 240, 5000, 'canary got it');
      const version = k['conc-north']!.configs.at(-1)!.version;
      await t.stop();
      for (const x of Object.values(k)) x.ws.terminate();
      t = await startHub({ dataDir: t.dataDir });
      fac = await consoleLogin(t.base, 'facilities', 'facilities-demo');
      assert.equal((await rollout(r.id)).state, 'canary');
      k['conc-north'] = healthKiosk(t.wsUrl, 'conc-north', DEMO_TOKEN('conc-north'));
      await k['conc-north'].welcomed;
      for (const id of ['conc-south', 'conc-tickets']) k[id] = healthKiosk(t.wsUrl, id, DEMO_TOKEN(id));
      await Promise.all(['conc-south', 'conc-tickets'].map((id) => k[id]!.welcomed));
      await sleep(300);
      // The canary's health report arrives in the new process.
      k['conc-north'].send({ type: 'events', batch: [{ id: 'conc-north:late:1', seq: 1, at: new Date().toISOString(), type: 'config.healthy', data: { version, windowS: 1 } }] });
      const done = await finished(r.id);
      assert.equal(done.state, 'done', done.reason);
      await until(() => (k['conc-south']!.configs.at(-1)?.document.sip as { callTimeLimitS?: number } | undefined)?.callTimeLimitS === 240, 5000, 'the rest got it after the restart');
    });
  });
}
