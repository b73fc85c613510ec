import { Type } from '@sinclair/typebox';
import { Id, Text, Strict } from './common.js';

export const Zone = Strict(
  {
    id: Id,
    name: Text,
    groups: Type.Optional(Type.Array(Id, { description: 'PA zone groups this zone belongs to' })),
  },
  'a PA and dispatch zone',
);

export const Site = Strict(
  {
    id: Id,
    name: Text,
    timezone: Type.String({ default: 'UTC' }),
    zones: Type.Array(Zone, { minItems: 1 }),
    map: Type.Optional(
      Strict({
        width: Type.Number({ exclusiveMinimum: 0, description: 'map units, e.g. metres' }),
        height: Type.Number({ exclusiveMinimum: 0 }),
        floorplan: Type.Optional(Type.String({ description: 'SVG file, relative to the kiosk config file that uses the site' })),
      }),
    ),
  },
  'the site a kiosk belongs to',
);

export const Location = Strict(
  {
    text: Text,
    x: Type.Number({ description: 'map x' }),
    y: Type.Number({ description: 'map y' }),
    floor: Type.Optional(Type.String()),
    lat: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })),
    lon: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
  },
  'where the kiosk stands',
);
