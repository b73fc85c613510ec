// Live updates for console pages: one server-sent event stream per page
// (GET /api/stream?topics=a,b, src/hub/plugins/stream.ts), many topics.
//
//   - A topic is defined once by the area that owns it, with the roles that
//     may follow it and, optionally, a resolver.
//   - publish(topic, event, data) reaches the pages on every hub instance:
//     it travels the instance bus (LISTEN/NOTIFY; in-process with PGlite), so
//     `data` must stay small (ids, a chat line): the bus refuses a message
//     over PostgreSQL's 8,000-byte NOTIFY limit.
//   - Each instance runs the topic's resolver once per message (typically:
//     read the changed row from the database) and sends the result to its own
//     subscribers whose role may see the topic.
// A page learns the current state with an ordinary GET, then follows changes.
import type { Logger } from '../core/log.js';
import type { InstanceBus } from './instance-bus.js';
import type { Role } from './storage/storage.js';

export interface PushTopic {
  /** roles whose sessions may follow the topic */
  roles: Role[];
  /**
   * Turns a published message into what subscribers get, once per instance
   * (e.g. an id into the row it names). Return undefined to send nothing.
   */
  resolve?(event: string, data: unknown): Promise<{ event: string; data: unknown } | undefined>;
  /** The last stream of this session that follows the topic on this instance closed (tab closed, network lost, logged out). */
  left?(session: string): void;
}

export interface PushClient {
  role: Role;
  /** the session's id hash: its streams end when it logs out */
  session: string;
  topics: Set<string>;
  send(event: string, data: unknown): void;
  /** ends the stream (the session ended, the hub stops) */
  end(reason: string): void;
}

export class PushHub {
  private readonly topics = new Map<string, PushTopic>();
  private readonly clients = new Set<PushClient>();

  constructor(
    private readonly bus: InstanceBus,
    private readonly log: Logger,
  ) {
    bus.on((m) => {
      if (m.t === 'push') void this.deliver(m.topic, m.event, m.data);
    });
  }

  define(name: string, topic: PushTopic): void {
    if (this.topics.has(name)) throw new Error(`push topic "${name}" is defined twice`);
    this.topics.set(name, topic);
  }

  /** Why a role may not follow these topics, or undefined. */
  refuse(role: Role, topics: string[]): string | undefined {
    for (const t of topics) {
      const def = this.topics.get(t);
      if (!def) return `unknown topic "${t}" (known: ${[...this.topics.keys()].join(', ')})`;
      if (!def.roles.includes(role)) return `topic "${t}" needs the ${def.roles.join(' or ')} role`;
    }
    return undefined;
  }

  subscribe(c: PushClient): () => void {
    this.clients.add(c);
    return () => {
      if (!this.clients.delete(c)) return;
      for (const t of c.topics) if (!this.following(c.session, t)) this.topics.get(t)?.left?.(c.session);
    };
  }

  /** Whether a session has a stream open on this instance that follows the topic. */
  following(session: string, topic: string): boolean {
    for (const o of this.clients) if (o.session === session && o.topics.has(topic)) return true;
    return false;
  }

  get subscribers(): number {
    return this.clients.size;
  }

  /** To the pages of every instance that follow the topic. Never throws: a failure is logged. */
  async publish(topic: string, event: string, data: unknown): Promise<void> {
    if (!this.topics.has(topic)) throw new Error(`push topic "${topic}" is not defined`);
    await this.bus.publish({ t: 'push', topic, event, data }).catch((err: Error) => this.log.warn({ err: err.message, topic, event }, 'push not published'));
  }

  /** Ends the streams of a session (log-out, revocation). */
  endSession(session: string, reason: string): void {
    for (const c of [...this.clients]) if (c.session === session) c.end(reason);
  }

  /** Ends every stream (the hub is stopping: the server waits for open connections). */
  close(): void {
    const all = [...this.clients];
    // Stopping is not a page leaving: no topic hears "left".
    this.clients.clear();
    for (const c of all) c.end('the hub is stopping');
  }

  private async deliver(topic: string, event: string, data: unknown): Promise<void> {
    const def = this.topics.get(topic);
    if (!def) return;
    const mine = [...this.clients].filter((c) => c.topics.has(topic) && def.roles.includes(c.role));
    if (mine.length === 0) return;
    let out: { event: string; data: unknown } | undefined = { event, data };
    try {
      if (def.resolve) out = await def.resolve(event, data);
    } catch (err) {
      this.log.warn({ err: (err as Error).message, topic, event }, 'push not resolved');
      return;
    }
    if (!out) return;
    for (const c of mine) {
      try {
        c.send(`${topic}.${out.event}`, out.data);
      } catch (err) {
        this.log.debug({ err: (err as Error).message }, 'push to a closed stream');
      }
    }
  }
}
