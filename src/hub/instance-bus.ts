// Messages between hub instances sharing one PostgreSQL: LISTEN/NOTIFY on one
// channel, ids only (a command id, a push id, a kiosk id, a session's id hash), never documents, so
// a payload stays far under PostgreSQL's 8,000-byte limit. Each instance
// reads what it needs from the database. With PGlite the bus stays in-process.
import type { Logger } from '../core/log.js';
import { MAX_NOTIFY_BYTES, type Db } from './storage/db.js';

export type BusMessage =
  /** from: the instance that stored the command and sent it to its own kiosks already (KioskLink.commandStored);
   *  command: its name, for a command whose answers an area takes over (KioskLink.answerHooks): every instance notes the id */
  | { t: 'command'; id: string; from?: string; command?: string }
  /** from: the instance that stored the push and sent it to its own kiosks already */
  | { t: 'config'; push: string; from?: string }
  | { t: 'kiosk'; id: string; change: 'revoked' | 'token' | 'enrolled' }
  // facilities console: kiosks whose state changed (consoles' maps), a rollout that moved on
  | { t: 'fleet'; ids: string[] }
  | { t: 'rollout'; id: string }
  // PA console and incidents: receipts or an incident changed (consoles refresh); a kiosk takes a live page by unicast
  | { t: 'pa'; ev: 'receipts' | 'action' | 'incident' | 'play' | 'message'; id: string }
  | { t: 'pa'; ev: 'unicast'; id: string; kiosk: string; host: string; port: number }
  | { t: 'pa'; ev: 'page'; id: string; state: 'chime' | 'live' | 'ended'; reason?: string }
  // a console session ended on instance `from` (log-out, revocation; src/hub/session-end.ts): the others
  // end its streams and check the desk accounts again, after anything of theirs already under way
  | { t: 'session'; ended: string; from: string }
  // live updates for console pages (src/hub/push.ts): small data only (ids, a chat line)
  | { t: 'push'; topic: string; event: string; data: unknown };

const CHANNEL = 'helppoint_hub';

export class InstanceBus {
  private readonly handlers: ((m: BusMessage) => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.db.listen(CHANNEL, (payload) => {
      let m: BusMessage;
      try {
        m = JSON.parse(payload) as BusMessage;
      } catch {
        return void this.log.warn({ payload: payload.slice(0, 200) }, 'unreadable instance bus message');
      }
      for (const h of this.handlers) {
        try {
          h(m);
        } catch (err) {
          this.log.error({ err: (err as Error).message, t: m.t }, 'instance bus handler failed');
        }
      }
    });
  }

  on(handler: (m: BusMessage) => void): void {
    this.handlers.push(handler);
  }

  async publish(m: BusMessage): Promise<void> {
    const payload = JSON.stringify(m);
    if (Buffer.byteLength(payload) > MAX_NOTIFY_BYTES) throw new Error('instance bus message too large');
    await this.db.notify(CHANNEL, payload);
  }
}
