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
  },
  'help-point hub configuration',
);

export type HubConfig = Static<typeof HubConfigSchema>;
