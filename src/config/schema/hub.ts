// The hub (control centre) configuration schema.
import { Type, type Static } from '@sinclair/typebox';
import { Id, Listen, LogLevel, Strict, Text } from './common.js';
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

const DeskId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$', description: 'the desk\'s SIP user on the site SIP server' });

/** The dispatch desk (issue 12): console desks, their SIP accounts, listen-in, quick replies. */
export const HubDesk = Strict(
  {
    sip: Strict(
      {
        wsUrl: Type.String({ pattern: '^wss?://', description: 'the site SIP server\'s WebSocket URL for browsers (wss:// in production; ws:// only on localhost)' }),
        domain: Type.String({ minLength: 1, description: 'the SIP domain desks register in' }),
      },
      'where console desks register',
    ),
    desks: Type.Array(
      Strict(
        {
          id: DeskId,
          password: Type.String({ minLength: 1, description: 'its digest password on the SIP server; handed to a dispatcher\'s browser only while the dispatcher holds the desk' }),
          name: Type.Optional(Type.String({ maxLength: 80 })),
          users: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'only these dispatchers may take this desk (default: any dispatcher)' })),
        },
        'a console desk: one SIP account, held by one logged-in dispatcher at a time',
      ),
      { minItems: 1 },
    ),
    listenIn: Type.Boolean({ default: false, description: 'the site allows a desk to listen in on a kiosk (a call back with the desk\'s microphone off; the kiosk shows the call as usual)' }),
    quickReplies: Type.Optional(
      Type.Array(Strict({ id: Id, text: Text }), { maxItems: 40, description: 'chat replies offered to the dispatcher, sent in the caller\'s language (default: a built-in set in en and zh-CN)' }),
    ),
    claimLapseS: Type.Integer({
      minimum: 3,
      maximum: 300,
      default: 15,
      description: 'a claim on an alarm that never turned into a call with the claiming desk lapses when the alarm rings again this long after the claim',
    }),
  },
  'console desks: dispatchers answer alarms in the browser',
);

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
    desk: Type.Optional(HubDesk),
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
