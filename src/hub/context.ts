// The one typed context every hub plugin gets (decorated on Fastify as
// `fastify.hub`), instead of positional arguments.
// Type augmentations of the plugins we use (cookies, rate limits, OpenAPI tags).
import type {} from '@fastify/cookie';
import type {} from '@fastify/rate-limit';
import type {} from '@fastify/swagger';
import type {} from '@fastify/websocket';
import type { HubConfig } from '../config/schema/hub.js';
import type { Logger } from '../core/log.js';
import type { ClipStore } from './clip-store.js';
import type { ConfigComposer } from './config-compose.js';
import type { Facilities } from './facilities/service.js';
import type { InstanceBus } from './instance-bus.js';
import type { KioskLink } from './kiosk-link.js';
import type { PushHub } from './push.js';
import type { SupervisionService } from './supervision/service.js';
import type { HubStorage, Right, Role } from './storage/storage.js';

export interface HubContext {
  config: HubConfig;
  /** folder of the hub config file: relative paths in it resolve here */
  configDir: string;
  /** this process among the hub instances sharing the database */
  instanceId: string;
  log: Logger;
  storage: HubStorage;
  link: KioskLink;
  bus: InstanceBus;
  clips: ClipStore;
  composer: ConfigComposer;
  /** facilities console: layers with provenance, staged rollouts, live fleet (src/hub/facilities/) */
  facilities: Facilities;
  /** live updates for console pages: topics, role-filtered, across instances (src/hub/push.ts) */
  push: PushHub;
  /** supervision: test calls, faults, overdue alarms, availability (src/hub/supervision/; set by its plugin) */
  supervision?: SupervisionService;
  /**
   * called on the instance where a console session ends by a request (log-out,
   * an admin's revocation; src/hub/session-end.ts): areas let go of what it
   * held; `why` says how it ended. Must not throw
   */
  sessionEnded: ((s: EndedSession, why: string) => Promise<void> | void)[];
  /** a kiosk silent this long is offline (ms) */
  offlineAfterMs: number;
  /** writes an audit record; never throws (a failure is logged) */
  audit(req: { session?: SessionInfo; ip?: string }, action: string, target: string, result: string, detail?: unknown): Promise<void>;
}

export interface SessionInfo {
  idSha256: string;
  user: string;
  role: Role;
  csrf: string;
  /** rights besides the role (e.g. 'pa.approve') */
  rights: Right[];
}

/** What the areas learn of a session that ended. */
export type EndedSession = Pick<SessionInfo, 'idSha256' | 'user'>;

declare module 'fastify' {
  interface FastifyInstance {
    hub: HubContext;
  }
  interface FastifyRequest {
    session?: SessionInfo;
  }
  interface FastifyContextConfig {
    /** roles allowed on this route; a route without `roles` must say `public: true` */
    roles?: Role[];
    /** rights needed besides one of the roles (e.g. 'pa.approve' to approve a PA wording) */
    rights?: Right[];
    /** no session needed (log-in page, health, kiosk endpoints with their own token) */
    public?: boolean;
    /** the log-in form: CSRF by the double-submit cookie instead of the session's token */
    loginCsrf?: boolean;
  }
}
