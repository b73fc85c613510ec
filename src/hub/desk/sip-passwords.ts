// Console desks' SIP passwords, one per session (desk.sip.rpc): the hub sets
// a desk's account in the SIP server's `users` table over Kamailio's JSON-RPC
// (htable.sets), so a password handed to a dispatcher's browser works only
// while that session holds the desk.
//
// - A session takes the desk: a fresh random password; the table gets its
//   HA1 md5(user:domain:password) (or the password itself where the server
//   keeps plain ones: the test bed), and the seat row keeps that value so
//   every hub instance knows what the table must hold.
// - No live session holds the desk (log-out, page closed, left, session
//   expired or revoked, hub just started): the table gets the desk's lock
//   value, a secret derived from the RPC token that no browser ever sees, and
//   the desk's registration goes (ul.rm).
// - Every CHECK_MS the table is compared with what it must hold and set again
//   where it differs: after a SIP server restart (its htable is back to the
//   static accounts of its config, or empty), after an RPC call that failed,
//   and at a session's expiry, which no request announces.
//
// Nothing on the emergency path depends on this: kiosks' calls go through the
// SIP server whether or not the hub reaches it.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { HubContext } from '../context.js';
import type { DeskConfig } from './service.js';

/** How often the SIP server's desk accounts are checked (and set again where they differ). */
export const CHECK_MS = 5000;
const RPC_TIMEOUT_MS = 2000;
/** a desk taken this recently without a recorded secret is being handed out (by some instance): left alone */
const TAKE_GRACE_MS = 10_000;

type Rpc = NonNullable<DeskConfig['sip']['rpc']>;

/** A JSON-RPC call to the SIP server; throws with its error (HTTP status or the RPC's message). */
export async function sipRpc(rpc: Rpc, method: string, params: unknown[]): Promise<unknown> {
  const r = await fetch(rpc.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-helppoint-rpc': rpc.token },
    body: JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 }),
    signal: AbortSignal.timeout(RPC_TIMEOUT_MS),
  });
  const body = (await r.json().catch(() => ({}))) as { result?: unknown; error?: { message?: string } };
  if (!r.ok || body.error) throw new RpcError(body.error?.message ?? `HTTP ${r.status}`);
  return body.result;
}

export class RpcError extends Error {}

/** Taking a desk failed at the SIP server: the browser gets this message, not a password. */
export class DeskPasswordError extends Error {}

export class DeskPasswords {
  private timer?: NodeJS.Timeout;
  /** one change at a time on this instance (a take, a lock, a check) */
  private chain: Promise<unknown> = Promise.resolve();
  /** the last check's failure, logged once until the SIP server answers again */
  private down?: string;

  constructor(
    private readonly hub: HubContext,
    private readonly cfg: DeskConfig,
  ) {}

  get enabled(): boolean {
    return !!this.cfg.sip.rpc;
  }

  start(): void {
    if (!this.enabled) return;
    void this.check();
    this.timer = setInterval(() => void this.check(), CHECK_MS).unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /**
   * A fresh password for the desk the session holds, set at the SIP server
   * before it is returned; an earlier holder's registration goes. Throws
   * DeskPasswordError when the SIP server did not take it.
   */
  issue(desk: string, session: string): Promise<string> {
    return this.serial(async () => {
      const password = randomBytes(24).toString('base64url');
      const secret = this.secretOf(desk, password);
      if (!(await this.hub.storage.desk.setSipSecret(desk, session, secret))) throw new DeskPasswordError(`desk ${desk} is no longer held by this session`);
      try {
        await this.set(desk, secret);
      } catch (err) {
        this.hub.log.error({ desk, err: (err as Error).message }, 'desk password not set at the SIP server');
        throw new DeskPasswordError(`the SIP server did not take a new password for desk ${desk} (${(err as Error).message}); no desk phone until it does`);
      }
      await this.forget(desk);
      this.hub.log.info({ desk }, 'desk password set for a session');
      return password;
    });
  }

  /**
   * No session holds the desk now: its password stops working and its
   * registration goes. Never throws; false when the SIP server did not take
   * it (logged; the next check tries again).
   */
  lock(desk: string): Promise<boolean> {
    return this.serial(async () => {
      try {
        await this.set(desk, this.lockValue(desk));
      } catch (err) {
        this.hub.log.error({ desk, err: (err as Error).message }, `desk password not replaced at the SIP server: the last one works until it is (checked every ${CHECK_MS / 1000} s)`);
        return false;
      }
      await this.forget(desk);
      return true;
    });
  }

  /** Sets every desk's account to what it must be now (see the top of the file). */
  check(): Promise<void> {
    return this.serial(async () => {
      try {
        const live = await this.hub.storage.desk.liveSipSecrets();
        for (const d of this.cfg.desks) {
          const want = this.wanted(d.id, live.get(d.id));
          if (want === undefined) continue;
          const have = await this.get(d.id);
          if (have === want) continue;
          // Read again just before setting: another instance may have handed the desk out meanwhile.
          const now = this.wanted(d.id, (await this.hub.storage.desk.liveSipSecrets(d.id)).get(d.id));
          if (now === undefined || now === have) continue;
          const held = now !== this.lockValue(d.id);
          await this.set(d.id, now);
          if (held) this.hub.log.warn({ desk: d.id }, 'desk password set again at the SIP server (it held another value: restarted?)');
          else {
            await this.forget(d.id);
            this.hub.log.info({ desk: d.id }, 'desk password replaced at the SIP server: no live session holds the desk');
          }
        }
        if (this.down) this.hub.log.info('desk passwords: the SIP server answers again');
        this.down = undefined;
      } catch (err) {
        const msg = (err as Error).message;
        if (this.down !== msg) this.hub.log.error({ err: msg }, 'desk passwords not checked at the SIP server');
        this.down = msg;
      }
    });
  }

  /**
   * Removes a desk's registration (ul.rm), so an alarm that hunts for it gets
   * 404 at once. Never throws: a failure is logged (the page unregisters too).
   */
  async forget(desk: string): Promise<boolean> {
    const rpc = this.cfg.sip.rpc;
    if (!rpc) return false;
    try {
      await sipRpc(rpc, 'ul.rm', ['location', desk]).catch((err: Error) => {
        // "AOR not found": nothing was registered, which is what we want.
        if (!(err instanceof RpcError && /not found/i.test(err.message))) throw err;
      });
      this.hub.log.info({ desk }, 'desk registration removed at the SIP server');
      return true;
    } catch (err) {
      this.hub.log.warn({ desk, err: (err as Error).message }, 'desk registration not removed at the SIP server');
      return false;
    }
  }

  /** What the desk's account must hold: its session's secret, the lock value, or undefined while a take is under way. */
  private wanted(desk: string, seat: { secret: string | null; ageMs: number } | undefined): string | undefined {
    if (seat?.secret) return seat.secret;
    if (seat && seat.ageMs < TAKE_GRACE_MS) return undefined;
    return this.lockValue(desk);
  }

  /** What the users table holds for a password: HA1 md5(user:realm:password), the realm being the desks' domain. */
  private secretOf(desk: string, password: string): string {
    return this.cfg.sip.rpc?.ha1 === false ? password : createHash('md5').update(`${desk}:${this.cfg.sip.domain}:${password}`).digest('hex');
  }

  /** A value nobody can authenticate against without the RPC token (32 hex digits, like an HA1). */
  private lockValue(desk: string): string {
    return createHmac('sha256', this.cfg.sip.rpc!.token).update(`helppoint desk locked: ${desk}`).digest('hex').slice(0, 32);
  }

  private async set(desk: string, value: string): Promise<void> {
    await sipRpc(this.cfg.sip.rpc!, 'htable.sets', ['users', desk, value]);
  }

  private async get(desk: string): Promise<string | undefined> {
    try {
      const r = (await sipRpc(this.cfg.sip.rpc!, 'htable.get', ['users', desk])) as { item?: { value?: unknown } } | undefined;
      return r?.item?.value === undefined ? undefined : String(r.item.value);
    } catch (err) {
      // An account the table does not hold (a config without static desk accounts, after a restart).
      if (err instanceof RpcError && /doesn't exist|not found/i.test(err.message)) return undefined;
      throw err;
    }
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.chain.then(f, f);
    this.chain = run.catch(() => undefined);
    return run;
  }
}
