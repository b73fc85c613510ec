import { Type } from '@sinclair/typebox';
import { Strict } from './common.js';

export const HubLink = Strict(
  {
    url: Type.String({ format: 'uri', pattern: '^wss?://', description: 'hub WebSocket URL; wss:// in the field' }),
    token: Type.String({ minLength: 16, description: 'per-kiosk credential; never logged' }),
    pinSha256: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: 'SHA-256 of the hub certificate (DER), pinned' })),
    heartbeatS: Type.Integer({ minimum: 1, maximum: 60, default: 5 }),
  },
  'link to the control centre',
);
