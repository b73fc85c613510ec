// Validators compiled ahead of time. `npm run build` turns each schema of
// schemas.ts into ajv's standalone code (dist/src/validators/compiled/*.cjs,
// written by gen.ts), so a kiosk neither loads ajv and TypeBox nor compiles
// its schemas at start: this saves memory (the idle_rss_mb goal) and start-up
// time. Where that output is absent (the TypeScript sources run with tsx, as
// in development and most tests) the same table is compiled in the process.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { VALIDATOR_NAMES, type ValidatorName } from './names.js';

export type { ValidatorName };

/** An ajv validate function: true or false, with `errors` set after a failure. */
export interface Validate<T = unknown> {
  (data: unknown): data is T;
  errors?: ValidationError[] | null;
}
/** The fields of an ajv ErrorObject that callers read. */
export interface ValidationError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

const require_ = createRequire(import.meta.url);
const file = (name: ValidatorName) => fileURLToPath(new URL(`./compiled/${name}.cjs`, import.meta.url));

/** True when this build carries every validator compiled ahead (the compiled CLI after `npm run build`). */
export const AHEAD_OF_TIME = VALIDATOR_NAMES.every((n) => existsSync(file(n)));
const fallback = AHEAD_OF_TIME ? undefined : await import('./schemas.js');

const cache = new Map<ValidatorName, Validate>();

/** The validator `name`, loaded (or, without the build's output, compiled) on first use. */
export function validator<T = unknown>(name: ValidatorName): Validate<T> {
  let v = cache.get(name);
  if (!v) {
    v = (fallback ? fallback.compile(name) : (require_(file(name)) as { default: Validate }).default) as Validate;
    cache.set(name, v);
  }
  return v as Validate<T>;
}

/** ajv's errorsText: "data/path message, ..." (standalone code carries no ajv instance to ask). */
export function errorsText(errors: ValidationError[] | null | undefined): string {
  if (!errors?.length) return 'No errors';
  return errors.map((e) => `data${e.instancePath} ${e.message ?? 'is invalid'}`).join(', ');
}
