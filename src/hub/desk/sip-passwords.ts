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
//   the desk's registration goes (ul.rm). Log-out and an admin's revocation
//   do it at once on the instance that ended the session
//   (src/hub/session-end.ts); the other instances, told over the instance
//   bus, check again after whatever of theirs was under way (a check that
//   read the session as live just before it ended would otherwise have set
//   its password back until their next check).
// - A session's expiry, which no request announces: every instance keeps a
//   timer per held desk at its session's expiry (armed when the session takes
//   the desk and by each check, moved when the expiry read differs), which
//   locks the desk at that instant.
// - Every CHECK_MS the table is compared with what it must hold and set again
//   where it differs: after a SIP server restart (its htable is back to the
//   static accounts of its config, or empty), after an RPC call that failed,
//   and as the safety net of all the above.
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
/** an expiry timer fires this long after the instant read from the database, so that the database sees it expired */
const EXPIRY_MARGIN_MS = 5;
/** an expiry read again within this of the armed one is the same (the reads' own latency): the timer stays */
const EXPIRY_SAME_MS = 25;
/** setTimeout's longest delay; a later expiry is armed again when this fires */
const MAX_TIMER_MS = 2 ** 31 - 1;

type LiveSeat = { secret: string | null; ageMs: number; expiresInMs: number };

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
  /** per held desk, the timer at its session's expiry */
  private readonly expiries = new Map<string, { timer: NodeJS.Timeout; dueAt: number }>();
  /** a check asked for by a notice from another instance waits on the chain (one covers every notice before it starts) */
  private recheckQueued = false;

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
    for (const e of this.expiries.values()) clearTimeout(e.timer);
    this.expiries.clear();
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
      // Its lock at the session's expiry (a failed read: the next check arms it).
      const seat = await this.hub.storage.desk.liveSipSecrets(desk).catch(() => undefined);
      if (seat) this.watchExpiry(desk, seat.get(desk));
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
      this.unwatchExpiry(desk);
      return true;
    });
  }

  /** Sets every desk's account to what it must be now (see the top of the file). */
  check(): Promise<void> {
    return this.checkAll('no live session holds the desk');
  }

  /**
   * A session ended on another hub instance (its notice on the instance bus):
   * every desk is checked again once what is under way on this instance is
   * done, so a check here that read that session as live cannot leave its
   * password set.
   */
  recheck(): void {
    if (!this.enabled || this.recheckQueued) return;
    this.recheckQueued = true;
    void this.checkAll('a session ended on another hub instance', () => (this.recheckQueued = false));
  }

  private checkAll(cause: string, started?: () => void): Promise<void> {
    return this.serial(async () => {
      started?.();
      try {
        const live = await this.hub.storage.desk.liveSipSecrets();
        // Every held desk's expiry timer first: an RPC call failing below must not leave one unarmed.
        for (const d of this.cfg.desks) this.watchExpiry(d.id, live.get(d.id));
        for (const d of this.cfg.desks) await this.settle(d.id, live.get(d.id), cause);
        if (this.down) this.hub.log.info('desk passwords: the SIP server answers again');
        this.down = undefined;
      } catch (err) {
        const msg = (err as Error).message;
        if (this.down !== msg) this.hub.log.error({ err: msg }, 'desk passwords not checked at the SIP server');
        this.down = msg;
      }
    });
  }

  /** One desk's account set to what it must hold, given its seat as just read (on the chain). */
  private async settle(desk: string, seat: LiveSeat | undefined, cause: string): Promise<void> {
    this.watchExpiry(desk, seat);
    const want = this.wanted(desk, seat);
    if (want === undefined) return;
    const have = await this.get(desk);
    if (have === want) return;
    // Read again just before setting: another instance may have handed the desk out meanwhile.
    const now = this.wanted(desk, (await this.hub.storage.desk.liveSipSecrets(desk)).get(desk));
    if (now === undefined || now === have) return;
    const held = now !== this.lockValue(desk);
    await this.set(desk, now);
    if (held) this.hub.log.warn({ desk }, 'desk password set again at the SIP server (it held another value: restarted?)');
    else {
      await this.forget(desk);
      this.hub.log.info({ desk, cause }, 'desk password replaced at the SIP server: no live session holds the desk');
    }
  }

  /** A timer at the expiry of the session holding the desk (none when no live session holds it). */
  private watchExpiry(desk: string, seat: LiveSeat | undefined): void {
    const cur = this.expiries.get(desk);
    if (!seat) return this.unwatchExpiry(desk);
    const dueAt = Date.now() + Math.max(0, seat.expiresInMs) + EXPIRY_MARGIN_MS;
    if (cur && Math.abs(cur.dueAt - dueAt) < EXPIRY_SAME_MS) return;
    clearTimeout(cur?.timer);
    const timer = setTimeout(() => this.expired(desk), Math.min(dueAt - Date.now(), MAX_TIMER_MS));
    timer.unref();
    this.expiries.set(desk, { timer, dueAt });
  }

  private unwatchExpiry(desk: string): void {
    clearTimeout(this.expiries.get(desk)?.timer);
    this.expiries.delete(desk);
  }

  /** The holding session's expiry timer fired: the desk is locked now, unless the session is still live (then armed again). */
  private expired(desk: string): void {
    this.expiries.delete(desk);
    void this.serial(async () => {
      try {
        await this.settle(desk, (await this.hub.storage.desk.liveSipSecrets(desk)).get(desk), 'its session expired');
      } catch (err) {
        this.hub.log.error({ desk, err: (err as Error).message }, `desk password not locked at its session's expiry (checked every ${CHECK_MS / 1000} s)`);
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
  private wanted(desk: string, seat: LiveSeat | undefined): string | undefined {
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
