// Every JSON-Schema validator the kiosk and hub use at run time, with its ajv
// options: the one table both the ahead-of-time compiler (gen.ts, run by the
// build) and the development fallback (index.ts, when the build's output is
// absent) compile from, so both validate exactly alike.
import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { TSchema } from '@sinclair/typebox';
import { KioskConfigSchema } from '../config/schema/kiosk.js';
import { HubConfigSchema } from '../config/schema/hub.js';
import { Wayfinding } from '../config/schema/display.js';
import { KioskDefaultsSchema, SiteFileSchema } from '../config/schema/files.js';
import { KioskToHub, HubToKiosk } from '../protocol/messages.js';
import { PaPlaySchema } from '../audio/pa-play-schema.js';
import type { ValidatorName } from './names.js';

// ajv-formats is CommonJS; its default export differs between loaders.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv) => Ajv;

/** Config files: every error reported, defaults filled in, unknown keywords refused. */
const CONFIG: Options = { allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true };
/** Messages and commands: stop at the first error. */
const MESSAGE: Options = { allErrors: false, strict: false };

export const SCHEMAS: Record<ValidatorName, { schema: TSchema; options: Options }> = {
  'kiosk-config': { schema: KioskConfigSchema, options: CONFIG },
  'hub-config': { schema: HubConfigSchema, options: CONFIG },
  'kiosk-defaults': { schema: KioskDefaultsSchema, options: CONFIG },
  'site-file': { schema: SiteFileSchema, options: CONFIG },
  wayfinding: { schema: Wayfinding, options: MESSAGE },
  'kiosk-to-hub': { schema: KioskToHub, options: MESSAGE },
  'hub-to-kiosk': { schema: HubToKiosk, options: MESSAGE },
  'pa-play': { schema: PaPlaySchema, options: MESSAGE },
};

/** An ajv instance for one validator's options; `standalone` keeps the generated source for gen.ts. */
export function ajvFor(options: Options, standalone = false): Ajv {
  const ajv = new Ajv({ ...options, ...(standalone ? { code: { source: true, esm: false } } : {}) });
  addFormats(ajv);
  return ajv;
}

/** Compiles one validator in this process (the development fallback). */
export function compile(name: ValidatorName) {
  const { schema, options } = SCHEMAS[name];
  return ajvFor(options).compile(schema);
}
