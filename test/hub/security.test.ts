// The hub refuses strangers: every route checks its roles (a table of route x
// role), every state-changing route wants the CSRF token, no GET returns a
// kiosk token or SIP password, log-in is rate-limited, kiosks are enrolled
// with a token shown once, revoked (socket closed within 1 s) and rotated,
// and every change leaves an audit record.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { consoleLogin, type ConsoleSession } from '../helpers/console.js';
import { lightKiosk } from '../helpers/light-kiosk.js';
import { EXAMPLE } from '../helpers/processes.js';
import { hasSecrets } from '../../src/config/secrets.js';
import { DEMO_TOKEN, engines, startHub, type TestHub } from './harness.js';

const ROLES = ['dispatcher', 'facilities', 'admin'] as const;
/** Rights besides the role of each example user (a route may need one, e.g. pa.approve). */
const RIGHTS: Record<string, string[]> = Object.fromEntries(
  (JSON.parse(readFileSync(path.join(EXAMPLE, 'hub.json'), 'utf8')) as { users: { name: string; rights?: string[] }[] }).users.map((u) => [u.name, u.rights ?? []]),
);
const PARAMS: Record<string, string> = { id: 'no-such-kiosk', scope: 'kiosk', target: 'no-such-kiosk', sha256: '0'.repeat(64), name: 'nobody' };
const fill = (url: string) => url.replace(/:(\w+)/g, (_m, p: string) => PARAMS[p] ?? 'x');

for (const engine of engines()) {
  describe(`hub security: roles, CSRF, secrets, rate limits, enrolment, revocation, audit (${engine.name})`, function () {
    this.timeout(120_000);
    let t: TestHub;
    const as: Partial<Record<(typeof ROLES)[number], ConsoleSession>> = {};
    let databaseUrl: string | undefined;
    const consoleCfg = { sessionTtlS: 3600, loginPerUserPerMin: 5, loginPerAddressPerMin: 40, trustProxy: true };
    before(async () => {
      databaseUrl = await engine.fresh();
      // listen-in on: its routes then refuse by role (the router's check), not because the site does not allow it
      t = await startHub({ databaseUrl, patch: (c) => ((c.console = { ...consoleCfg }), c.desk && (c.desk.listenIn = true)) });
      for (const r of ROLES) as[r] = await consoleLogin(t.base, r, `${r}-demo`);
    });
    after(() => t.stop());

    const api = () => t.hub.app!.routeTable.filter((r) => !r.websocket && !r.config.public && !r.config.loginCsrf && r.method !== 'HEAD');

    it('every route declares its roles or says it is public', () => {
      for (const r of t.hub.app!.routeTable) assert.ok(r.config.public || r.config.loginCsrf || r.config.roles?.length, `${r.method} ${r.url} declares no roles`);
      assert.ok(api().length >= 15, `only ${api().length} routes with roles`);
    });

    it('route x role: no session is 401, a role not listed is 403, a listed role gets past the check', async () => {
      const table: string[] = [];
      for (const r of api()) {
        if (r.url === '/logout') continue; // below: it would end the session used here
        const url = fill(r.url);
        const anon = await fetch(t.base + url, { method: r.method, headers: { 'content-type': 'application/json' }, body: r.method === 'GET' ? undefined : '{}' });
        assert.equal(anon.status, 401, `${r.method} ${r.url} without a session`);
        for (const role of ROLES) {
          const s = as[role]!;
          const res = r.method === 'GET' ? await s.get(url) : await fetch(t.base + url, { method: r.method, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'application/json' }, body: '{}' });
          const allowed = r.config.roles!.includes(role) && (r.config.rights ?? []).every((x) => RIGHTS[role]!.includes(x));
          if (allowed) assert.ok(res.status !== 401 && res.status !== 403, `${r.method} ${r.url} as ${role}: ${res.status} ${await res.text()}`);
          else assert.equal(res.status, 403, `${r.method} ${r.url} as ${role}`);
          table.push(`${r.method} ${r.url} ${role} ${res.status}`);
        }
      }
      assert.ok(table.length >= 45);
    });

    it('every state-changing route refuses a request without the CSRF token, or with a wrong one', async () => {
      const admin = as.admin!;
      const changing = t.hub.app!.routeTable.filter((r) => !r.websocket && !['GET', 'HEAD', 'OPTIONS'].includes(r.method));
      assert.ok(changing.length >= 10);
      for (const r of changing) {
        for (const token of [undefined, 'wrong-token-0123456789']) {
          const headers: Record<string, string> = { cookie: admin.cookie, 'content-type': 'application/json', ...(token ? { 'x-csrf-token': token } : {}) };
          const res = await fetch(t.base + fill(r.url), { method: r.method, headers, body: '{}' });
          assert.equal(res.status, 403, `${r.method} ${r.url} with CSRF token ${token ?? 'missing'}: ${res.status}`);
        }
      }
    });

    it('no GET route returns a kiosk token or a SIP password', async () => {
      // Secrets in the example site and one enrolled a moment ago.
      const enrolled = (await (await as.admin!.post('/api/kiosks', { id: 'walk-1', zone: 'concourse', location: { text: { en: 'walk' }, x: 1, y: 1 }, baseConfig: 'kiosks/conc-north.json' })).json()) as { token: string };
      const secrets = ['conc-north', 'conc-south', 'conc-tickets', 'plat-1', 'plat-2', 'plat-3'].map(DEMO_TOKEN).concat(enrolled.token);
      const sipPasswords = readFileSync(path.join(EXAMPLE, 'kiosk-base.json'), 'utf8').match(/"password"\s*:\s*"([^"]+)"/g) ?? [];
      secrets.push(...sipPasswords.map((p) => /"([^"]+)"$/.exec(p)![1]!));
      // Put documents everywhere a GET could show one: a kiosk layer, a zone layer, a pending config.
      await as.facilities!.post('/api/kiosks/conc-north/config', { hub: { token: 'leak-me-0123456789abcdef' }, sip: { account: { password: 'leak-me-too' } } });
      await as.facilities!.post('/api/config', { zone: 'platforms', override: { sip: { callTimeLimitS: 500 } } });
      secrets.push('leak-me-0123456789abcdef', 'leak-me-too');
      const gets = t.hub.app!.routeTable.filter((r) => r.method === 'GET' && !r.websocket && !r.url.startsWith('/static/'));
      const urls = gets.flatMap((r) => {
        if (!r.url.includes(':')) return [r.url];
        return ['conc-north', 'walk-1', 'plat-1'].map((id) => r.url.replace(':id', id).replace(':scope', 'kiosk').replace(':target', id).replace(':sha256', '0'.repeat(64)));
      });
      urls.push('/api/config/layers/zone/platforms', '/api/events/export?format=json', '/api/audit/export?format=csv');
      let checked = 0;
      for (const url of urls) {
        const res = await as.admin!.get(url);
        const text = await res.text();
        for (const s of secrets) assert.ok(!text.includes(s), `GET ${url} shows a secret`);
        if (/json/.test(res.headers.get('content-type') ?? '') && url !== '/openapi.json' && text) assert.ok(!hasSecrets(JSON.parse(text)), `GET ${url} has a token or password field`);
        checked++;
      }
      assert.ok(checked >= 20, `walked ${checked} GETs`);
    });

    it('rate-limits log-in per user name', async () => {
      const codes: number[] = [];
      for (let i = 0; i < 7; i++) {
        const pre = await fetch(t.base + '/api/session');
        const { loginCsrf } = (await pre.json()) as { loginCsrf: string };
        const r = await fetch(t.base + '/login', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': loginCsrf, cookie: pre.headers.get('set-cookie')!.split(';')[0]! },
          body: JSON.stringify({ user: 'ghost', password: 'guess' + i }),
        });
        codes.push(r.status);
      }
      assert.deepEqual(codes.slice(0, 5), [401, 401, 401, 401, 401]);
      assert.equal(codes[6], 429, codes.join(','));
      // Another user from the same address is not locked out.
      await consoleLogin(t.base, 'facilities', 'facilities-demo');
    });

    if (engine.name === 'postgres') {
      it('shares the log-in limits between hub instances on one PostgreSQL', async () => {
        const b = await startHub({ databaseUrl, patch: (c) => (c.console = { ...consoleCfg }) });
        try {
          const codes: number[] = [];
          for (let i = 0; i < 7; i++) {
            const base = i % 2 ? b.base : t.base; // attempts alternate between the two instances
            const pre = await fetch(base + '/api/session');
            const { loginCsrf } = (await pre.json()) as { loginCsrf: string };
            const r = await fetch(base + '/login', {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'x-csrf-token': loginCsrf, cookie: pre.headers.get('set-cookie')!.split(';')[0]! },
              body: JSON.stringify({ user: 'ghost-two', password: 'guess' + i }),
            });
            codes.push(r.status);
          }
          // 5 per minute for the user in all: a count per instance would have let all 7 through.
          assert.deepEqual(codes, [401, 401, 401, 401, 401, 429, 429]);
        } finally {
          await b.stop();
        }
      });
    }

    it('rate-limits log-in per client address (here taken from X-Forwarded-For, as behind a load balancer)', async () => {
      const attempt = async (addr: string, user: string) => {
        const pre = await fetch(t.base + '/api/session', { headers: { 'x-forwarded-for': addr } });
        const { loginCsrf } = (await pre.json()) as { loginCsrf: string };
        const r = await fetch(t.base + '/login', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': addr, 'x-csrf-token': loginCsrf, cookie: pre.headers.get('set-cookie')!.split(';')[0]! },
          body: JSON.stringify({ user, password: 'guess' }),
        });
        return r.status;
      };
      const codes: number[] = [];
      for (let i = 0; i < 42; i++) codes.push(await attempt('198.51.100.7', `someone-${i}`)); // a new name each time: only the address limit applies
      assert.ok(codes.slice(0, 40).every((c) => c === 401), codes.join(','));
      assert.equal(codes[41], 429);
      assert.equal(await attempt('198.51.100.8', 'someone-else'), 401, 'another address is not limited');
    });

    it('enrols a kiosk with a token shown once, revokes it (socket closed within 1 s), rotates a token', async () => {
      const admin = as.admin!;
      const r = await admin.post('/api/kiosks', { id: 'new-kiosk', zone: 'platforms', location: { text: { en: 'new' }, x: 2, y: 2 } });
      assert.equal(r.status, 201);
      const { token } = (await r.json()) as { token: string };
      assert.equal((await admin.post('/api/kiosks', { id: 'new-kiosk', zone: 'platforms', location: { text: { en: 'new' }, x: 2, y: 2 } })).status, 409);
      const k = lightKiosk(t.wsUrl, 'new-kiosk', token);
      await k.welcomed;
      const t0 = Date.now();
      assert.equal((await admin.post('/api/kiosks/new-kiosk/revoke', {})).status, 200);
      const closed = await k.closed;
      assert.ok(closed.at - t0 < 1000, `closed after ${closed.at - t0} ms`);
      await assert.rejects(lightKiosk(t.wsUrl, 'new-kiosk', token).welcomed, /HTTP 401/);
      // Rotation: the old token is refused at once, the new one works.
      const old = lightKiosk(t.wsUrl, 'plat-3', DEMO_TOKEN('plat-3'));
      await old.welcomed;
      const rot = (await (await admin.post('/api/kiosks/plat-3/token', {})).json()) as { token: string };
      assert.ok((await old.closed).code >= 4000);
      await assert.rejects(lightKiosk(t.wsUrl, 'plat-3', DEMO_TOKEN('plat-3')).welcomed, /HTTP 401/);
      const fresh = lightKiosk(t.wsUrl, 'plat-3', rot.token);
      await fresh.welcomed;
      fresh.ws.close();
      const fleet = await admin.json<{ id: string; revoked: boolean }[]>('/api/fleet');
      assert.equal(fleet.find((x) => x.id === 'new-kiosk')!.revoked, true);
    });

    it('records every change and command in the audit trail, queryable and exportable', async () => {
      const d = as.dispatcher!;
      await d.post('/api/commands', { zone: 'concourse', command: 'screen.message', args: { id: 'm1', text: { en: 'hello' } } });
      const audit = await as.admin!.json<{ user: string; role: string; action: string; target: string; result: string }[]>('/api/audit?limit=10000');
      const actions = new Set(audit.map((a) => a.action));
      for (const a of ['login', 'command.screen.message', 'config.kiosk', 'config.push', 'kiosk.enrol', 'kiosk.revoke', 'kiosk.token.rotate']) assert.ok(actions.has(a), `audit has ${a}`);
      const cmd = audit.find((a) => a.action === 'command.screen.message')!;
      assert.equal(cmd.user, 'dispatcher');
      assert.equal(cmd.role, 'dispatcher');
      assert.equal(cmd.target, 'zone:concourse');
      assert.ok(audit.some((a) => a.action === 'login' && a.result === 'refused'));
      const onlyLogins = await as.admin!.json<{ action: string }[]>('/api/audit?action=login');
      assert.ok(onlyLogins.length > 0 && onlyLogins.every((a) => a.action === 'login'));
      const csv = await (await as.admin!.get('/api/audit/export?format=csv')).text();
      assert.match(csv.split('\r\n')[0]!, /^serial,at,user,role,action,target,result,detail,address$/);
      assert.ok(csv.includes('command.screen.message'));
    });

    it('answers log-out by POST only and revokes the session on the server', async () => {
      const s = await consoleLogin(t.base, 'admin', 'admin-demo');
      assert.equal((await fetch(t.base + '/logout', { headers: { cookie: s.cookie } })).status, 404);
      assert.equal((await s.post('/logout', {})).status, 200);
      assert.equal((await s.get('/api/fleet')).status, 401);
    });
  });
}
