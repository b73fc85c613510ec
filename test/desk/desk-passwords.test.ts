// Per-session desk SIP passwords (desk.sip.rpc): a hub process and the test
// bed's Kamailio. The password a session gets registers; once the session
// lets go of the desk (log-out, revocation) the same password is refused;
// the next session gets another one; the desk's static account from the SIP
// server's config never works; after a Kamailio restart the hub sets the
// held desk's password again; an RPC that fails gives the dispatcher a clear
// error instead of a password.
import { strict as assert } from 'node:assert';
import { runKamailio, startKamailio, type Kamailio } from '../../src/testbed/kamailio.js';
import { stopAll, type Managed } from '../../src/testbed/proc.js';
import { consoleLogin, type ConsoleSession } from '../helpers/console.js';
import { sleep, until } from '../helpers/tmp.js';
import { registeredContacts, type MediaBed } from './helpers.js';
import { startHubProcess } from './hub-bed.js';
import { sipRegister } from './sip-register.js';
import { CHECK_MS } from '../../src/hub/desk/sip-passwords.js';

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

  it('a revoked session (no log-out request) loses its password and registration within a check', async () => {
    const d = await consoleLogin(base, 'dispatcher', 'dispatcher-demo');
    const seat = await take(d);
    assert.equal(await register(seat.sip.password), 200);
    const admin = await consoleLogin(base, 'admin', 'admin-demo');
    const r = await admin.post('/api/users/dispatcher/sessions/revoke', {});
    assert.equal(r.status, 200);
    await registerUntil(seat.sip.password, 401, CHECK_MS + 3000, 'revoked session\'s password refused');
    await until(async () => (await contacts()).length === 0, 3000, 'registration removed');
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
