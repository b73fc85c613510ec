// The hub: the control centre's process. Opens its storage (PGlite in the
// data folder, or PostgreSQL shared with other hub instances), provisions the
// kiosks and users of its config file, and serves the console API, the pages
// and the kiosks' WebSocket through Fastify (src/hub/server.ts).
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { DestinationStream } from 'pino';
import type { FastifyInstance } from 'fastify';
import type { HubConfig } from '../config/schema/hub.js';
import { createLogger, type Logger } from '../core/log.js';
import { ClipStore } from './clip-store.js';
import { ConfigComposer } from './config-compose.js';
import type { HubContext } from './context.js';
import { InstanceBus } from './instance-bus.js';
import { KioskLink } from './kiosk-link.js';
import { Facilities } from './facilities/service.js';
import { PushHub } from './push.js';
import { buildServer } from './server.js';
import { openStorage, type HubStorage } from './storage/index.js';
import { fleetList, type KioskStatus } from './plugins/fleet.js';

export interface HubOptions {
  config: HubConfig;
  configDir: string;
  port?: number;
  /** PostgreSQL URL (overrides config.database.url) */
  databaseUrl?: string;
  logDestination?: DestinationStream;
}

export class Hub {
  readonly log: Logger;
  readonly instanceId = `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  port = 0;
  app?: FastifyInstance;
  ctx?: HubContext;
  private retention?: NodeJS.Timeout;

  constructor(private readonly opts: HubOptions) {
    this.log = createLogger({ name: 'hub', id: opts.config.id, level: opts.config.log.level, destination: opts.logDestination });
  }

  get storage(): HubStorage {
    if (!this.ctx) throw new Error('hub not started');
    return this.ctx.storage;
  }

  async start(): Promise<void> {
    const { config, configDir } = this.opts;
    const dataDir = path.resolve(config.dataDir);
    const url = this.opts.databaseUrl ?? config.database?.url;
    const storage = await openStorage({ url, dataDir, log: this.log, poolSize: config.database?.poolSize });
    try {
      await storage.provisionKiosks(config.kiosks);
      await storage.provisionUsers(config.users);
      const bus = new InstanceBus(storage.db, this.log);
      await bus.start();
      const composer = new ConfigComposer(storage, configDir);
      const offlineAfterMs = config.offlineAfterS * 1000;
      const link = new KioskLink({ hubId: config.id, instanceId: this.instanceId, offlineAfterS: config.offlineAfterS, storage, composer, bus, log: this.log });
      await link.start();
      const log = this.log;
      const facilities = new Facilities({ storage, bus, link, log, instanceId: this.instanceId, offlineAfterMs, configDir, rebootTimeoutS: config.rebootTimeoutS });
      this.ctx = {
        config,
        configDir,
        instanceId: this.instanceId,
        log,
        storage,
        link,
        bus,
        clips: new ClipStore(path.join(dataDir, 'clips')),
        composer,
        facilities,
        push: new PushHub(bus, log),
        sessionEnded: [],
        offlineAfterMs,
        async audit(req, action, target, result, detail) {
          await storage
            .audit({ user: req.session?.user ?? '-', role: req.session?.role ?? '-', action, target, result, detail, address: req.ip })
            .catch((err: Error) => log.error({ err: err.message, action, target }, 'audit record not written'));
        },
      };
      this.app = await buildServer(this.ctx);
      // A deep backlog: a fleet reconnecting at once (after a hub restart) must not be reset by the kernel.
      await this.app.listen({ port: this.opts.port ?? config.listen.port, host: config.listen.host, backlog: 4096 });
      this.port = (this.app.server.address() as import('node:net').AddressInfo).port;
      facilities.start();
    } catch (err) {
      // Areas started by the server (the PA engine, its SIP gateway) stop with it, before the storage
      // they use closes: a failed start must end the process, not leave their timers and sockets behind.
      await this.app?.close().catch(() => undefined);
      this.ctx?.facilities.stop();
      await this.ctx?.link.stop().catch(() => undefined);
      await storage.close().catch(() => undefined);
      throw err;
    }
    this.retention = setInterval(() => void this.retain().catch((err: Error) => this.log.warn({ err: err.message }, 'retention failed')), 60_000);
    this.retention.unref();
    const scheme = config.tls ? 'https' : 'http';
    this.log.info({ console: `${scheme}://${config.listen.host}:${this.port}/`, engine: this.storage.db.kind, instance: this.instanceId }, 'ready');
  }

  /** Event retention (per kiosk, then by age) and expired sessions; runs every minute. */
  async retain(): Promise<number> {
    const { config } = this.opts;
    const n = await this.storage.applyRetention(config.events?.perKioskMax ?? 100_000, config.events?.maxAgeDays);
    if (n) this.log.info({ deleted: n }, 'event retention');
    await this.storage.purgeSessions();
    return n;
  }

  /** Every kiosk and its state, as GET /api/fleet shows it. */
  async fleet(): Promise<KioskStatus[]> {
    return fleetList(this.app!);
  }

  async stop(): Promise<void> {
    clearInterval(this.retention);
    if (!this.ctx) return;
    this.ctx.facilities.stop();
    await this.ctx.link.stop().catch(() => undefined);
    await this.app?.close().catch(() => undefined);
    await this.ctx.storage.close().catch(() => undefined);
  }
}
