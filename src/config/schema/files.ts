// Schemas of config files that are not a whole kiosk or hub config: kiosk
// defaults (every field optional) and the site file shared by hub and kiosks.
import { Type } from '@sinclair/typebox';
import { KioskConfigSchema } from './kiosk.js';
import { Site } from './site.js';

export const KioskDefaultsSchema = Type.Partial(KioskConfigSchema, { description: 'kiosk defaults, merged under each kiosk file' });
export const SiteFileSchema = Type.Object(
  { $schema: Type.Optional(Type.String()), site: Site },
  { additionalProperties: false, description: 'a site shared by the hub and kiosk configs' },
);
