// Validation of a PA command before anything is changed: bad input gets a
// clear error naming the field, and nothing starts playing.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
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

export function checkPaPlay(x: unknown): { ok: true; play: PaPlay } | { ok: false; error: string } {
  if (!Value.Check(PaPlaySchema, x)) {
    const errs = [...Value.Errors(PaPlaySchema, x)].slice(0, 3).map((e) => `${e.path || '/'}: ${e.message}`);
    return { ok: false, error: `invalid PA command: ${errs.join('; ')}` };
  }
  const p = x as PaPlay;
  if (!p.message === !p.clip) return { ok: false, error: 'invalid PA command: give exactly one of "message" or "clip"' };
  return { ok: true, play: p };
}
