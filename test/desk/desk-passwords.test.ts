// Per-session desk SIP passwords (desk.sip.rpc): a hub process and the test
// bed's Kamailio. The password a session gets registers; once the session
// lets go of the desk (log-out, revocation) the same password is refused at
// once, and at its expiry within 500 ms; the next session gets another one;
// the desk's static account from the SIP server's config never works; after
// a Kamailio restart the hub sets the held desk's password again; an RPC that
// fails gives the dispatcher a clear error instead of a password. Two hub
// instances on PostgreSQL: a revocation through one locks a desk held through
// the other at once, and neither sets the old password back.
import { strict as assert } from 'node:assert';
import { runKamailio, startKamailio, type Kamailio } from '../../src/testbed/kamailio.js';
import { stopAll, type Managed } from '../../src/testbed/proc.js';
import { consoleLogin, type ConsoleSession } from '../helpers/console.js';
import { sleep, until } from '../helpers/tmp.js';
import { registeredContacts, type MediaBed } from './helpers.js';
import { startHubProcess } from './hub-bed.js';
import { sipRegister } from './sip-register.js';
import { openStream } from './sse.js';
import { CHECK_MS } from '../../src/hub/desk/sip-passwords.js';
import { engines, sharedPostgres } from '../hub/harness.js';

const RPC_TOKEN = 'desk-passwords-test-rpc-token-0123';
const STATIC = 'desk-static-secret';

type Seat = { desk: string; sip: { user: string; password: string; domain: string } };

describe('desk SIP passwords per session (hub, Kamailio JSON-RPC)', function () {
  this.timeout(90_000);
  let kam: Kamailio;
  let hub: Managed;
  let base: string;
  const register = (password: string) => sipRegister({ port: kam.port, user: 'desk', password });
  /** polls (REGISTER every 200 ms) until the password gets `status` */
  const registerUntil = (password: string, status: number, timeoutMs: number, what: string) =>
    until(async () => (await register(password)) === status || (await sleep(200), false), timeoutMs, what);
  const contacts = () => registeredContacts({ kamailio: kam } as MediaBed, RPC_TOKEN, 'desk');
  const take = async (s: ConsoleSession) => {
    const r = await s.post('/api/desk/seat', {});
    assert.equal(r.status, 200, await r.clone().text());
    return (await r.json()) as Seat;
  };

  before(async () => {
    // The SIP server's config still has a static desk account: the hub must make it useless.
    kam = await startKamailio({ users: { desk: STATIC, 'conc-north': 'kiosk-secret' }, rpcToken: RPC_TOKEN });
    ({ hub, base } = await startHubProcess({
      sip: { wsUrl: `ws://127.0.0.1:${kam.wsPort}/`, domain: '127.0.0.1', rpc: { url: `http://127.0.0.1:${kam.wsPort}/RPC`, token: RPC_TOKEN, ha1: false } },
      desks: [{ id: 'desk', name: 'Desk 1' }],
      listenIn: false,
      claimLapseS: 15,
    }));
  });
  after(async () => {
    await stopAll();
  });

  it('the static account of the SIP server\'s config is locked once the hub runs', async () => {
    await registerUntil(STATIC, 401, CHECK_MS + 3000, 'static desk password refused');
    assert.equal(await register('anything'), 401);
  });

  it('a session\'s password registers; after log-out the same password is refused and the registration is gone; the next session gets another one', async () => {
    const a = await consoleLogin(base, 'dispatcher', 'dispatcher-demo');
    const seatA = await take(a);
    assert.equal(seatA.desk, 'desk');
    assert.equal(seatA.sip.user, 'desk');
    assert.ok(seatA.sip.password.length >= 24, 'a long random password');
    assert.notEqual(seatA.sip.password, STATIC);
    assert.equal(await register(seatA.sip.password), 200);
    assert.equal(await register(STATIC), 401, 'the static one still refused');
    assert.equal((await contacts()).length, 1);

    assert.equal((await a.post('/logout', {})).status, 200);
    assert.equal(await register(seatA.sip.password), 401, 'refused at once after log-out');
    assert.deepEqual(await contacts(), [], 'registration removed at log-out');

    const b = await consoleLogin(base, 'admin', 'admin-demo');
    const seatB = await take(b);
    assert.equal(seatB.desk, 'desk');
    assert.notEqual(seatB.sip.password, seatA.sip.password);
    assert.equal(await register(seatB.sip.password), 200);
    assert.equal(await register(seatA.sip.password), 401);

    // The same session again (a reloaded page): a new password, the one before stops working.
    const seatB2 = await take(b);
    assert.notEqual(seatB2.sip.password, seatB.sip.password);
    assert.equal(await register(seatB2.sip.password), 200);
    assert.equal(await register(seatB.sip.password), 401);

    // Leaving the desk (the page's own request): refused at once, and the answer says it was done.
    const left = (await (await b.post('/api/desk/seat/leave', {})).json()) as { ok: boolean; desk: string };
    assert.deepEqual(left, { ok: true, desk: 'desk' });
    assert.equal(await register(seatB2.sip.password), 401);
    assert.equal((await b.post('/logout', {})).status, 200);
  });

  it('a revoked session (no log-out request) loses its password and registration at once (within 500 ms, not at the next check)', async () => {
    const d = await consoleLogin(base, 'dispatcher', 'dispatcher-demo');
    const seat = await take(d);
    assert.equal(await register(seat.sip.password), 200);
    assert.equal((await contacts()).length, 1);
    const admin = await consoleLogin(base, 'admin', 'admin-demo');
    const t0 = Date.now();
    const r = await admin.post('/api/users/dispatcher/sessions/revoke', {});
    assert.equal(r.status, 200);
    assert.ok(((await r.json()) as { revoked: number }).revoked >= 1);
    await registerUntil(seat.sip.password, 401, 500, 'revoked session\'s password refused within 500 ms');
    assert.deepEqual(await contacts(), [], 'registration removed');
    const ms = Date.now() - t0;
    assert.ok(ms < 500, `${ms} ms`);
    console.log(`      refused and unregistered ${ms} ms after the revocation request`);
    await until(() => /"desk":"desk".*"why":"session revoked".*"msg":"desk let go"/.test(hub.output()), 2000, 'the desk let go for the revocation (logged)');
    await admin.post('/logout', {});
  });

  it('after a Kamailio restart (static account back) the hub sets the held desk\'s password again', async () => {
    const s = await consoleLogin(base, 'dispatcher', 'dispatcher-demo');
    const seat = await take(s);
    assert.equal(await register(seat.sip.password), 200);
    await kam.stop();
    const again = await runKamailio(kam.config, kam.wsPort);
    kam = { ...kam, ...again };
    const t0 = Date.now();
    await registerUntil(seat.sip.password, 200, CHECK_MS + 5000, 'session password works again');
    assert.equal(await register(STATIC), 401, 'the static account from the config is locked again');
    await until(async () => /set again at the SIP server/.test(hub.output()), 2000, 'logged');
    console.log(`      password set again ${Date.now() - t0} ms after the restart`);
    assert.equal((await s.post('/logout', {})).status, 200);
    assert.equal(await register(seat.sip.password), 401);
  });

  it('the RPC failing: the dispatcher gets a clear error and no password, the desk is not held, and no password works once the SIP server is back', async () => {
    const s = await consoleLogin(base, 'dispatcher', 'dispatcher-demo');
    const seat = await take(s);
    assert.equal(await register(seat.sip.password), 200);
    await kam.stop();
    // Taking the desk again (a reload) while the SIP server's RPC does not answer.
    const r = await s.post('/api/desk/seat', {});
    assert.equal(r.status, 503);
    const body = (await r.json()) as { error: string; sip?: unknown };
    assert.match(body.error, /SIP server did not take a new password for desk desk/);
    assert.equal(body.sip, undefined);
    const board = (await s.json('/api/desk/board')) as { mySeat: string | null; seats: unknown[] };
    assert.equal(board.mySeat, null, 'the desk is let go');
    assert.deepEqual(board.seats, []);
    assert.match(hub.output(), /desk password not set at the SIP server/);
    // Back: the hub locks the desk (no session holds it); neither the old nor the static password works.
    const again = await runKamailio(kam.config, kam.wsPort);
    kam = { ...kam, ...again };
    await registerUntil(STATIC, 401, CHECK_MS + 5000, 'locked once the SIP server is back');
    assert.equal(await register(seat.sip.password), 401);
    // Leaving while the RPC fails: the answer says the SIP side was not done.
    const seat2 = await take(s);
    await kam.stop();
    const left = (await (await s.post('/api/desk/seat/leave', {})).json()) as { ok: boolean; error?: string };
    assert.equal(left.ok, false);
    assert.match(left.error ?? '', /did not take its new password/);
    const back = await runKamailio(kam.config, kam.wsPort);
    kam = { ...kam, ...back };
    await registerUntil(STATIC, 401, CHECK_MS + 5000, 'locked once the SIP server is back');
    assert.equal(await register(seat2.sip.password), 401, 'the left desk\'s password refused');
  });
});

/** A Kamailio with a static desk account and hubs that set its desk's password over the RPC. */
function deskBed() {
  const bed = {
    kam: undefined as unknown as Kamailio,
    register: (password: string) => sipRegister({ port: bed.kam.port, user: 'desk', password }),
    contacts: () => registeredContacts({ kamailio: bed.kam } as MediaBed, RPC_TOKEN, 'desk'),
    desk: () => ({
      sip: { wsUrl: `ws://127.0.0.1:${bed.kam.wsPort}/`, domain: '127.0.0.1', rpc: { url: `http://127.0.0.1:${bed.kam.wsPort}/RPC`, token: RPC_TOKEN, ha1: false } },
      desks: [{ id: 'desk', name: 'Desk 1' }],
      listenIn: false,
      claimLapseS: 15,
    }),
    take: async (s: ConsoleSession) => {
      const r = await s.post('/api/desk/seat', {});
      assert.equal(r.status, 200, await r.clone().text());
      return (await r.json()) as Seat;
    },
    async start() {
      bed.kam = await startKamailio({ users: { desk: STATIC }, rpcToken: RPC_TOKEN });
    },
  };
  return bed;
}

describe('desk SIP passwords locked at the session\'s expiry (hub, Kamailio JSON-RPC)', function () {
  // The shortest session the config allows (console.sessionTtlS >= 60).
  const TTL_S = 60;
  this.timeout(TTL_S * 1000 + 60_000);
  const bed = deskBed();
  let base: string;

  before(async () => {
    await bed.start();
    ({ base } = await startHubProcess(bed.desk(), { config: { console: { sessionTtlS: TTL_S } } }));
  });
  after(async () => {
    await stopAll();
  });

  it(`an expiring session's password is refused and its registration gone within 500 ms of its expiry (not at the next check), not before`, async () => {
    const tBefore = Date.now();
    const d = await consoleLogin(base, 'dispatcher', 'dispatcher-demo');
    const tAfter = Date.now();
    const seat = await bed.take(d);
    assert.equal(await bed.register(seat.sip.password), 200);
    // The session expires between tBefore + TTL and tAfter + TTL (the database's clock is this machine's).
    await sleep(tBefore + TTL_S * 1000 - 1000 - Date.now());
    assert.equal(await bed.register(seat.sip.password), 200, 'still works a second before the expiry');
    let refusedAt = 0;
    while (Date.now() < tAfter + TTL_S * 1000 + 3000) {
      const at = Date.now();
      if ((await bed.register(seat.sip.password)) === 401) {
        refusedAt = at;
        break;
      }
      await sleep(20);
    }
    assert.ok(refusedAt > 0, 'refused after its expiry');
    assert.ok(refusedAt >= tBefore + TTL_S * 1000 - 50, `refused ${tBefore + TTL_S * 1000 - refusedAt} ms before the expiry`);
    const late = refusedAt - (tAfter + TTL_S * 1000);
    assert.ok(late <= 500, `refused ${late} ms after the expiry`);
    assert.deepEqual(await bed.contacts(), [], 'registration removed');
    console.log(`      refused at most ${Math.max(0, late)} ms after the expiry (log-in took ${tAfter - tBefore} ms)`);
  });
});

describe('desk SIP passwords with two hub instances on PostgreSQL (hub, Kamailio JSON-RPC)', function () {
  this.timeout(120_000);
  if (!engines().some((e) => e.name === 'postgres')) return void it.skip('PostgreSQL is not installed');
  const bed = deskBed();
  let a: { hub: Managed; base: string };
  let b: { hub: Managed; base: string };

  before(async () => {
    await bed.start();
    const database = await (await sharedPostgres()).database(`desklock_${process.pid}`);
    // One after the other: both migrate the database at start-up.
    a = await startHubProcess(bed.desk(), { database, name: 'hub-a' });
    b = await startHubProcess(bed.desk(), { database, name: 'hub-b' });
  });
  after(async () => {
    await stopAll();
  });

  it('a revocation through instance B locks a desk held through instance A at once, A hears of it, and no instance sets the old password back', async () => {
    const d = await consoleLogin(a.base, 'dispatcher', 'dispatcher-demo');
    const seat = await bed.take(d);
    assert.equal(await bed.register(seat.sip.password), 200);
    assert.equal((await bed.contacts()).length, 1);
    // The dispatcher's board stream is on A: it must end when B revokes the session.
    const stream = await openStream(a.base, d.cookie, 'desk');
    assert.equal(stream.status, 200);
    // A's checks run meanwhile and keep the session's password (it is live).
    await sleep(CHECK_MS + 500);
    assert.equal(await bed.register(seat.sip.password), 200, 'held through A, kept by both instances\' checks');

    const admin = await consoleLogin(b.base, 'admin', 'admin-demo');
    const t0 = Date.now();
    const r = await admin.post('/api/users/dispatcher/sessions/revoke', {});
    assert.equal(r.status, 200);
    assert.equal(await bed.register(seat.sip.password), 401, 'refused as soon as B answers');
    assert.deepEqual(await bed.contacts(), [], 'registration removed');
    const ms = Date.now() - t0;
    assert.ok(ms < 500, `${ms} ms`);
    console.log(`      refused and unregistered ${ms} ms after the revocation request through B`);
    const bye = await stream.wait((e) => e.event === 'bye', 2000, 'A ended the revoked session\'s stream');
    assert.equal(bye.data.reason, 'session ended');
    stream.close();
    await until(() => /"desk":"desk".*"why":"session revoked".*"msg":"desk let go"/.test(b.hub.output()), 2000, 'B let go of the desk (logged)');

    // More than a check of each instance later: every REGISTER with the old password was refused.
    const end = Date.now() + CHECK_MS + 1500;
    while (Date.now() < end) {
      assert.equal(await bed.register(seat.sip.password), 401, 'no instance set the revoked session\'s password back');
      await sleep(200);
    }
    assert.equal(await bed.register(STATIC), 401);
    assert.equal((await d.get('/api/desk/board')).status, 401, 'the session is over on A too');
    await admin.post('/logout', {});
  });
});
