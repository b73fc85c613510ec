import { Type, type Static } from '@sinclair/typebox';
import { Strict, Text } from './common.js';

export const Language = Type.Union([Type.Literal('zh-CN'), Type.Literal('en')]);

export const Display = Strict(
  {
    enabled: Type.Boolean({ default: true }),
    languages: Type.Array(Language, { minItems: 1, default: ['zh-CN', 'en'] }),
    defaultLanguage: Type.Union([Type.Literal('zh-CN'), Type.Literal('en')], { default: 'zh-CN' }),
    wayfinding: Type.Optional(Type.String({ description: 'wayfinding graph file, relative to the config file' })),
    degradedText: Type.Optional({ ...Text, description: 'approved wording shown when hub or SIP is unreachable (default from the translation files)' }),
  },
  'touch screen',
);

/** The wayfinding graph file (display.wayfinding): walkable paths and destinations. */
const LText = Type.Object({ en: Type.String({ minLength: 1 }), 'zh-CN': Type.String({ minLength: 1 }) }, { additionalProperties: false });
export const WayCategory = Type.Union(
  ['exit', 'toilet', 'lift', 'platform', 'service-desk', 'first-aid', 'car-park'].map((c) => Type.Literal(c)),
);
export const Wayfinding = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    nodes: Type.Array(Type.Object({ id: Type.String({ minLength: 1 }), x: Type.Number(), y: Type.Number() }, { additionalProperties: false }), { minItems: 1 }),
    edges: Type.Array(
      Type.Object(
        { from: Type.String(), to: Type.String(), stairs: Type.Optional(Type.Boolean({ description: 'not step-free' })), via: Type.Optional(LText) },
        { additionalProperties: false },
      ),
    ),
    destinations: Type.Array(
      Type.Object({ id: Type.String({ minLength: 1 }), node: Type.String(), category: WayCategory, name: LText }, { additionalProperties: false }),
    ),
    /** graph node of each kiosk, by kiosk id */
    kiosks: Type.Record(Type.String(), Type.String()),
  },
  { additionalProperties: false },
);
export type WayfindingData = Static<typeof Wayfinding>;
