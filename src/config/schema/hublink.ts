import { Type } from '@sinclair/typebox';
import { Strict } from './common.js';

export const HubLink = Strict(
  {
    url: Type.String({ format: 'uri', pattern: '^wss?://', description: 'hub WebSocket URL; wss:// in the field' }),
    backupUrls: Type.Optional(
      Type.Array(Type.String({ format: 'uri', pattern: '^wss?://' }), {
        maxItems: 8,
        uniqueItems: true,
        description:
          'further hub instances on the same database, tried in turn after `url` when it cannot be reached or the link drops (round robin on the reconnect back-off); the kiosk stays where it connected. Same token and pins as `url`: the instances share one certificate key (or each key is in `pins`)',
      }),
    ),
    token: Type.String({ minLength: 16, description: 'per-kiosk credential; never logged' }),
    pinSha256: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: 'SHA-256 of the hub certificate (DER), pinned; prefer "pins", which survive a certificate renewal' })),
    pins: Type.Optional(
      Type.Array(Type.String({ pattern: '^[A-Za-z0-9+/]{43}=$' }), {
        minItems: 1,
        maxItems: 4,
        description:
          'SHA-256 (base64) of the hub public keys (SPKI) trusted for wss:// and clip downloads: the current key and a backup for the next; the hub pushes a new list ahead of a key change (helppoint spki-pin CERT prints one)',
      }),
    ),
    heartbeatS: Type.Integer({ minimum: 1, maximum: 60, default: 5 }),
    offlineFaultS: Type.Integer({
      minimum: 1,
      maximum: 86_400,
      default: 60,
      description: 'seconds without a link to any hub URL (since start-up or since the link dropped) before the hub-link fault is raised; a move to a backup URL is not one; it clears when the link is back',
    }),
    configHealthWindowS: Type.Integer({
      minimum: 0,
      maximum: 3600,
      default: 60,
      description:
        'a config from the hub becomes last-known-good after running this long healthily (SIP registered where registrars are set, hub link up, no new fault); a failure inside the window rolls back. 0: at once',
    }),
  },
  'link to the control centre',
);
