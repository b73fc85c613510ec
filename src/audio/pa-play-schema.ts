// The schema of a PA command (TypeBox). Checked with the validator compiled
// ahead of time from it (src/validators), see pa-play.ts.
import { Type, type Static } from '@sinclair/typebox';
import { CHANNELS } from './types.js';
import type { PaPlay } from './events.js';

const Text = Type.Object({ en: Type.String({ minLength: 1 }), 'zh-CN': Type.Optional(Type.String({ minLength: 1 })) }, { additionalProperties: false });

export const PaPlaySchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 128 }),
    channel: Type.Union(CHANNELS.map((c) => Type.Literal(c))),
    message: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    clip: Type.Optional(Type.Object({ sha256: Type.String({ pattern: '^[0-9a-fA-F]{64}$' }), url: Type.String({ minLength: 1, maxLength: 2048 }) }, { additionalProperties: false })),
    text: Type.Optional(Text),
    chime: Type.Optional(Type.Boolean()),
    startAt: Type.Optional(Type.Number({ minimum: 0 })),
    repeat: Type.Optional(Type.Object({ times: Type.Integer({ minimum: 1, maximum: 100 }), intervalS: Type.Number({ minimum: 0, maximum: 86400 }) }, { additionalProperties: false })),
    volume: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    drill: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

type Checked = Static<typeof PaPlaySchema>;
// the bus contract and this schema must describe the same thing
const _sameShape: (x: Checked) => PaPlay = (x) => x;
void _sameShape;

