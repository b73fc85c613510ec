import { Type } from '@sinclair/typebox';
import { Strict } from './common.js';

export const Language = Type.Union([Type.Literal('zh-CN'), Type.Literal('en')]);

export const Display = Strict(
  {
    enabled: Type.Boolean({ default: true }),
    languages: Type.Array(Language, { minItems: 1, default: ['zh-CN', 'en'] }),
    defaultLanguage: Type.Union([Type.Literal('zh-CN'), Type.Literal('en')], { default: 'zh-CN' }),
    wayfinding: Type.Optional(Type.String({ description: 'wayfinding graph file, relative to the config file' })),
  },
  'touch screen',
);
