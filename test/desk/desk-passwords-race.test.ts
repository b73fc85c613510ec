// The race the session-ended notice closes (src/hub/desk/sip-passwords.ts):
// instance B's check read the desk's session as live and is about to set its
// password when the session is revoked through instance A, which locks the
// desk. B's set lands after A's lock: the old password is back. The notice
// (recheck) makes B check again after its check, so the desk ends locked.
// Also: an instance locks a desk at its session's expiry even when another
// instance handed the password out. Two DeskPasswords on one storage (PGlite)
// and a small stand-in for Kamailio's JSON-RPC (htable.get/sets, ul.rm) that
// can hold a set.
import { strict as assert } from 'node:assert';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { openStorage, type HubStorage } from '../../src/hub/storage/index.js';
import { DeskPasswords } from '../../src/hub/desk/sip-passwords.js';
import type { DeskConfig } from '../../src/hub/desk/service.js';
import type { HubContext } from '../../src/hub/context.js';
import { sleep, tmpDir, until } from '../helpers/tmp.js';

/** htable `users` and the location table of one desk, over JSON-RPC; sets of `held` wait for release(). */
function fakeRpc() {
  const table = new Map<string, string>();
  const rm: string[] = [];
  let held: { value: string; arrived: boolean; release?: () => void } | undefined;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      const { method, params } = JSON.parse(body) as { method: string; params: string[] };
      const answer = (o: object) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: 1, ...o }));
      if (method === 'htable.get') return answer(table.has(params[1]!) ? { result: { item: { name: params[1], value: table.get(params[1]!) } } } : { error: { code: 500, message: "key doesn't exist" } });
      if (method === 'htable.sets') {
        if (held && params[2] === held.value) {
          held.arrived = true;
          await new Promise<void>((r) => (held!.release = r));
        }
        table.set(params[1]!, params[2]!);
        return answer({ result: { status: 'ok' } });
      }
      if (method === 'ul.rm') return rm.push(params[1]!), answer({ result: 'ok' });
      answer({ error: { code: 404, message: 'no such command' } });
    });
  });
  return {
    table,
    rm,
    hold: (value: string) => (held = { value, arrived: false }),
    held: () => held,
    listen: () => new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port))),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('desk SIP passwords across instances: a session ended while a check is under way, expiry timers (stand-in RPC)', function () {
  this.timeout(60_000);
  let storage: HubStorage;
  const rpc = fakeRpc();
  const log = pino({ level: 'silent' });
  let a: DeskPasswords;
  let b: DeskPasswords;

  before(async () => {
    storage = await openStorage({ dataDir: tmpDir('hp-deskrace-'), log });
    const port = await rpc.listen();
    const cfg = { sip: { wsUrl: 'ws://127.0.0.1:9/', domain: '127.0.0.1', rpc: { url: `http://127.0.0.1:${port}/RPC`, token: 'race-test-rpc-token-0123456789', ha1: false } }, desks: [{ id: 'desk', name: 'Desk' }] } as unknown as DeskConfig;
    const hub = { storage, log } as unknown as HubContext;
    // Two hub instances: each its own DeskPasswords (own chain, own timers) on the shared storage.
    a = new DeskPasswords(hub, cfg);
    b = new DeskPasswords(hub, cfg);
  });
  after(async () => {
    a?.stop();
    b?.stop();
    await rpc.close();
    await storage?.close();
  });

  it('the check\'s late set of the old password is undone by the notice\'s check: the desk ends locked', async () => {
    await storage.createSession({ idSha256: 'sa', user: 'u', role: 'dispatcher', csrf: 'x', ttlS: 3600 });
    assert.equal((await storage.desk.takeSeat(['desk'], 'u', 'sa'))?.desk, 'desk');
    const password = await a.issue('desk', 'sa');
    assert.equal(rpc.table.get('desk'), password, 'plain passwords (ha1: false)');
    // Kamailio restarted meanwhile: the table holds something else, so B's check sets the session's password again.
    rpc.table.set('desk', 'static-from-config');
    rpc.hold(password);
    const checking = b.check();
    await until(() => rpc.held()!.arrived, 5000, 'B\'s check about to set the session\'s password');

    // Now the session is revoked through A, which locks the desk (as at log-out).
    await storage.revokeSession('sa');
    assert.equal(await a.lock('desk'), true);
    const lockValue = rpc.table.get('desk')!;
    assert.notEqual(lockValue, password);
    const rmBefore = rpc.rm.length;
    // A's notice reaches B while its check is under way; then B's stale set lands.
    b.recheck();
    rpc.held()!.release!();
    await checking;
    await until(() => rpc.table.get('desk') === lockValue, 2000, 'the desk locked again on B');
    // ul.rm follows the set.
    await until(() => rpc.rm.length > rmBefore, 2000, 'the registration removed again');
    // It stays locked: a check of either instance leaves it.
    await b.check();
    await a.check();
    assert.equal(rpc.table.get('desk'), lockValue);
  });

  it('without the notice the late set would stay until the next check (what the notice is for)', async () => {
    await storage.createSession({ idSha256: 'sb', user: 'u', role: 'dispatcher', csrf: 'x', ttlS: 3600 });
    assert.ok(await storage.desk.takeSeat(['desk'], 'u', 'sb'));
    const password = await a.issue('desk', 'sb');
    rpc.table.set('desk', 'static-from-config');
    rpc.hold(password);
    const checking = b.check();
    await until(() => rpc.held()!.arrived, 5000, 'B\'s check about to set the session\'s password');
    await storage.revokeSession('sb');
    assert.equal(await a.lock('desk'), true);
    rpc.held()!.release!();
    await checking;
    assert.equal(rpc.table.get('desk'), password, 'the old password is back after B\'s check');
    // The next check puts it right (the safety net); the notice makes that happen at once instead.
    b.recheck();
    await until(() => rpc.table.get('desk') !== password, 2000, 'locked by the check');
  });

  it('an instance that did not hand the password out locks the desk at its session\'s expiry too (its timer armed by its check)', async () => {
    // A session of 2 s (the config's shortest is 60 s; the storage takes any).
    const tBefore = Date.now();
    await storage.createSession({ idSha256: 'sc', user: 'u', role: 'dispatcher', csrf: 'x', ttlS: 2 });
    const tAfter = Date.now();
    assert.ok(await storage.desk.takeSeat(['desk'], 'u', 'sc'));
    const password = await a.issue('desk', 'sc');
    // A is gone (its timer with it); B has only seen the seat in its check.
    a.stop();
    await b.check();
    assert.equal(rpc.table.get('desk'), password);
    await sleep(tBefore + 2000 - 200 - Date.now());
    assert.equal(rpc.table.get('desk'), password, 'not locked before the expiry');
    await until(() => rpc.table.get('desk') !== password, 3000, 'locked at the expiry');
    const late = Date.now() - (tAfter + 2000);
    assert.ok(late <= 500, `locked ${late} ms after the expiry`);
  });
});
