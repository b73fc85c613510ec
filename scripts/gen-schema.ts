// Writes config/schema/*.schema.json from the TypeBox sources.
import { writeFileSync } from 'node:fs';
import { schemaFiles } from '../src/config/schema-files.js';

for (const [name, text] of Object.entries(schemaFiles())) {
  writeFileSync(new URL(`../config/schema/${name}`, import.meta.url), text);
  console.log(`wrote config/schema/${name}`);
}
