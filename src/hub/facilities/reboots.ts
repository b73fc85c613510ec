// Reboots of kiosk boards from the hub (command kiosk.reboot). The command is
// stored with a reboot row (storage.reboots) holding the boot id the kiosk
// reported before; the kiosk's ok only means its system has the reboot, so it
// moves the row to "rebooting" and is not the command's result. The result is
// written when the kiosk reports another boot id (ok: back), when it refused
// or its reboot command failed (its reason), or at the deadline (not back).
// Any instance may see each step: the answer and the new boot id arrive where
// the kiosk is connected; the deadline is swept by every instance, and each
// expired row is taken by one.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../core/log.js';
import { Batcher } from '../batcher.js';
import type { KioskLink } from '../kiosk-link.js';
import type { HubStorage } from '../storage/storage.js';
import type { RebootRow } from '../storage/reboots.js';

export const REBOOT_COMMAND = 'kiosk.reboot';

export type AskOutcome =
  | { ok: true; reboot: RebootRow }
  /** refused by the hub before anything was sent: offline, no boot id known, a reboot already under way */
  | { ok: false; error: string; code: 'offline' | 'no-boot-id' | 'under-way' };

export class Reboots {
  /** the boot id last seen per kiosk held here: written only when it changes */
  private readonly boots = new Map<string, string>();
  /** boot ids to store, many per statement (a fleet reconnecting after a hub restart reports thousands at once) */
  private readonly seen: Batcher<{ kiosk: string; bootId: string; seenAt: number }>;
  private sweeper?: NodeJS.Timeout;

  constructor(
    private readonly o: {
      storage: HubStorage;
      link: KioskLink;
      log: Logger;
      offlineAfterMs: number;
      /** seconds a rebooting kiosk has to come back with another boot id */
      timeoutS: number;
      /** a kiosk's reboot state changed (the fleet list shows it) */
      changed: (kiosk: string) => void;
    },
  ) {
    this.seen = new Batcher((items) => this.bootsSeen(items), { delayMs: 20 });
  }

  start(): void {
    const { link, log } = this.o;
    link.heartbeatListeners.push((id, m) => {
      if (!m.bootId || this.boots.get(id) === m.bootId) return;
      this.boots.set(id, m.bootId);
      this.seen.enqueue({ kiosk: id, bootId: m.bootId, seenAt: Date.now() }).catch((err: Error) => {
        this.boots.delete(id); // tried again at the next heartbeat
        log.warn({ kiosk: id, err: err.message }, 'boot id not stored');
      });
    });
    link.answerHooks.set(REBOOT_COMMAND, (a) => {
      this.answered(a).catch((err: Error) => log.error({ kiosk: a.kiosk, command: a.id, err: err.message }, 'reboot answer not stored'));
    });
    // The deadline is checked a few times within the timeout, at least every 5 s.
    const every = Math.max(250, Math.min(5000, (this.o.timeoutS * 1000) / 4));
    this.sweeper = setInterval(() => void this.sweep().catch((err: Error) => log.warn({ err: err.message }, 'reboot deadlines not checked')), every);
    this.sweeper.unref();
  }

  stop(): void {
    clearInterval(this.sweeper);
    this.o.link.answerHooks.delete(REBOOT_COMMAND);
  }

  /**
   * Asks a kiosk to reboot its board: refused at once when it is offline, has
   * never reported a boot id (an older firmware: the hub could not tell that
   * it came back) or has a reboot under way; else stored with its reboot row
   * in one transaction and sent.
   */
  async ask(kiosk: string, by: { user: string; role: string }): Promise<AskOutcome> {
    const { storage, link } = this.o;
    const online = link.isLocal(kiosk) || (await storage.onlineKiosks([kiosk], this.o.offlineAfterMs)).has(kiosk);
    if (!online) return { ok: false, code: 'offline', error: `kiosk ${kiosk} is offline` };
    const bootBefore = await storage.reboots.bootId(kiosk);
    if (!bootBefore) return { ok: false, code: 'no-boot-id', error: `kiosk ${kiosk} reports no boot id (firmware before protocol 5, or no Linux boot id): a reboot could not be confirmed` };
    const open = await storage.reboots.open(kiosk);
    if (open) return { ok: false, code: 'under-way', error: `a reboot of ${kiosk} is under way (asked by ${open.by} at ${open.askedAt})` };
    const id = `cmd-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    const args = { by: `hub:${by.user}` };
    try {
      await storage.db.transaction(async (tx) => {
        await storage.reboots.create(tx, { commandId: id, kiosk, by: args.by, bootBefore, timeoutS: this.o.timeoutS });
        await storage.createCommand({ id, command: REBOOT_COMMAND, args, by: by.user, role: by.role, kiosks: [kiosk] }, tx);
      });
    } catch (err) {
      // Two asks at once: the unique index on open reboots lets one through.
      const now = await storage.reboots.open(kiosk);
      if (now) return { ok: false, code: 'under-way', error: `a reboot of ${kiosk} is under way (asked by ${now.by} at ${now.askedAt})` };
      throw err;
    }
    await link.commandStored({ id, command: REBOOT_COMMAND, args, kiosks: [kiosk] });
    this.o.changed(kiosk);
    return { ok: true, reboot: (await storage.reboots.get(id))! };
  }

  /** The kiosk's answer (on the connection it holds: its own commands only). */
  private async answered(a: { id: string; kiosk: string; ok: boolean; error?: string }): Promise<void> {
    const { storage, log } = this.o;
    if (a.ok) {
      if (await storage.reboots.handed(a.id, a.kiosk)) {
        log.info({ kiosk: a.kiosk, command: a.id }, 'kiosk handed the reboot to its system; waiting for another boot id');
        this.o.changed(a.kiosk);
      }
      return;
    }
    const error = a.error ?? 'no reason given';
    if (await storage.reboots.answered(a.id, a.kiosk, error.startsWith('reboot refused') ? 'refused' : 'failed', error)) {
      await storage.commandResults([{ id: a.id, kiosk: a.kiosk, ok: false, error }]);
      this.o.changed(a.kiosk);
    }
  }

  /** Boot ids reported: stored; a reboot whose kiosk is back on another boot is done (a heartbeat from before the ask cannot end it). */
  private async bootsSeen(items: { kiosk: string; bootId: string; seenAt: number }[]): Promise<void> {
    const { storage, log } = this.o;
    const done = await storage.reboots.bootsSeen(items);
    if (done.length === 0) return;
    log.info({ reboots: done }, 'kiosks back from their reboot');
    await storage.commandResults(done.map((d) => ({ id: d.commandId, kiosk: d.kiosk, ok: true })));
    for (const d of done) this.o.changed(d.kiosk);
  }

  /** Reboots past their deadline: not back (the command's result says so). */
  async sweep(): Promise<void> {
    const { storage, log } = this.o;
    const expired = await storage.reboots.expire();
    if (expired.length === 0) return;
    log.warn({ reboots: expired }, 'kiosks not back from their reboot in time');
    await storage.commandResults(expired.map((e) => ({ id: e.commandId, kiosk: e.kiosk, ok: false, error: e.error })));
    for (const e of expired) this.o.changed(e.kiosk);
  }
}
