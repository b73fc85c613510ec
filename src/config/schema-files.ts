// The published JSON Schema files in config/schema, generated from the
// TypeBox sources so documentation and validation can never disagree.
import { KioskConfigSchema } from './schema/kiosk.js';
import { HubConfigSchema } from './schema/hub.js';
import { KioskDefaultsSchema, SiteFileSchema } from './schema/files.js';
import { Wayfinding } from './schema/display.js';

export function schemaFiles(): Record<string, string> {
  const out: Record<string, string> = {};
  const entries = {
    'kiosk.schema.json': KioskConfigSchema,
    'kiosk-defaults.schema.json': KioskDefaultsSchema,
    'hub.schema.json': HubConfigSchema,
    'site.schema.json': SiteFileSchema,
    'wayfinding.schema.json': Wayfinding,
  };
  for (const [name, schema] of Object.entries(entries)) {
    const doc = { $schema: 'http://json-schema.org/draft-07/schema#', $id: name, ...JSON.parse(JSON.stringify(schema)) };
    out[name] = JSON.stringify(doc, null, 2) + '\n';
  }
  return out;
}
