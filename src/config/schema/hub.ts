// The hub (control centre) configuration schema.
import { Type, type Static } from '@sinclair/typebox';
import { Id, Listen, LogLevel, Strict } from './common.js';
import { Site, Location } from './site.js';

const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });

export const HubKiosk = Strict(
  {
    id: Id,
    zone: Type.String(),
    location: Location,
    tokenSha256: Type.Optional(Sha256),
    revoked: Type.Boolean({ default: false }),
    config: Type.Optional(Type.String({ description: 'kiosk config file, relative to this file (demo and first provisioning)' })),
  },
  'a kiosk the hub knows',
);

export const HubUser = Strict({
  name: Type.String({ minLength: 1 }),
  role: Type.Union([Type.Literal('dispatcher'), Type.Literal('facilities'), Type.Literal('admin')]),
  passwordHash: Type.String({ pattern: '^scrypt\\$', description: 'scrypt$<salt hex>$<hash hex>; make one with helppoint hash-password' }),
});

export const HubConfigSchema = Strict(
  {
    $schema: Type.Optional(Type.String()),
    id: Id,
    listen: Listen,
    tls: Type.Optional(Strict({ cert: Type.String(), key: Type.String() })),
    dataDir: Type.String({ default: 'var/hub' }),
    log: Strict({ level: LogLevel }),
    site: Site,
    kiosks: Type.Array(HubKiosk),
    users: Type.Array(HubUser, { minItems: 1 }),
    offlineAfterS: Type.Integer({ minimum: 1, default: 10 }),
    database: Type.Optional(
      Strict(
        {
          url: Type.Optional(Type.String({ pattern: '^postgres(ql)?://', description: 'PostgreSQL server (several hub instances share one); without it the hub keeps an embedded PGlite database in dataDir' })),
          poolSize: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
        },
        'where the hub keeps its data',
      ),
    ),
    console: Type.Optional(
      Strict(
        {
          sessionTtlS: Type.Integer({ minimum: 60, maximum: 7 * 86400, default: 12 * 3600, description: 'a console session expires this long after log-in' }),
          loginPerUserPerMin: Type.Integer({ minimum: 1, default: 10, description: 'log-in attempts per user name and minute' }),
          loginPerAddressPerMin: Type.Integer({ minimum: 1, default: 30, description: 'log-in attempts per client address and minute' }),
          trustProxy: Type.Boolean({ default: false, description: 'take the client address from X-Forwarded-For (only behind your own load balancer)' }),
        },
        'console log-in and sessions',
      ),
    ),
    events: Type.Optional(
      Strict(
        {
          perKioskMax: Type.Integer({ minimum: 100, default: 100000, description: 'events kept per kiosk (the oldest go first), so a noisy kiosk cannot evict the records of another' }),
          maxAgeDays: Type.Optional(Type.Integer({ minimum: 1, description: 'events older than this are deleted' })),
        },
        'kiosk event retention',
      ),
    ),
  },
  'help-point hub configuration',
);

export type HubConfig = Static<typeof HubConfigSchema>;
