import { Type } from '@sinclair/typebox';
import { Id, Port, Strict } from './common.js';

export const Audio = Strict(
  {
    output: Strict({
      sink: Type.Union([Type.Literal('alsa'), Type.Literal('file'), Type.Literal('null')], { default: 'alsa' }),
      device: Type.String({ default: 'default', description: 'ALSA device name' }),
      file: Type.Optional(Type.String({ description: 'file sink: raw PCM or WAV path' })),
      rate: Type.Union([Type.Literal(8000), Type.Literal(16000), Type.Literal(48000)], { default: 16000 }),
    }),
    input: Strict({
      source: Type.Union([Type.Literal('alsa'), Type.Literal('file'), Type.Literal('silence')], { default: 'alsa' }),
      device: Type.String({ default: 'default' }),
      file: Type.Optional(Type.String({ description: 'file source: a WAV played as the microphone' })),
    }),
    volume: Type.Number({ minimum: 0, maximum: 1, default: 0.8 }),
  },
  'audio devices',
);

export const Pa = Strict(
  {
    chime: Type.Boolean({ default: true }),
    multicast: Type.Array(
      Strict({
        group: Type.String({ format: 'ipv4' }),
        port: Port,
        priority: Type.Integer({ minimum: 1, maximum: 255 }),
        zone: Type.Optional(Id),
      }),
      { default: [] },
    ),
    schedule: Type.Array(
      Strict({
        cron: Type.String({ description: 'minute hour day-of-month month day-of-week' }),
        message: Type.String(),
        repeat: Type.Optional(Type.Integer({ minimum: 1 })),
      }),
      { default: [] },
    ),
  },
  'public address',
);
