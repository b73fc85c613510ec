import { Type, type TSchema } from '@sinclair/typebox';

/** An id used in URLs, file names and SIP headers. */
export const Id = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$', description: 'lower-case id: letters, digits, - and _' });

/** Text in the kiosk's languages; English is required, Simplified Chinese strongly advised. */
export const Text = Type.Object(
  { en: Type.String({ minLength: 1 }), 'zh-CN': Type.Optional(Type.String({ minLength: 1 })) },
  { additionalProperties: false, description: 'text per language' },
);

export const LogLevel = Type.Union(
  [
    Type.Literal('fatal'),
    Type.Literal('error'),
    Type.Literal('warn'),
    Type.Literal('info'),
    Type.Literal('debug'),
    Type.Literal('trace'),
    Type.Literal('silent'),
  ],
  { default: 'info' },
);

export const Port = Type.Integer({ minimum: 0, maximum: 65535 });

export const Listen = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1', description: 'address to bind' }),
    port: Port,
  },
  { additionalProperties: false },
);

export function Strict<T extends Record<string, TSchema>>(props: T, description?: string) {
  return Type.Object(props, { additionalProperties: false, ...(description ? { description } : {}) });
}
