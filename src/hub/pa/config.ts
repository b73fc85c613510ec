// The hub's PA section with its defaults filled in (the section itself is optional).
import { Value } from '@sinclair/typebox/value';
import type { Static } from '@sinclair/typebox';
import { HubPa } from '../../config/schema/hub.js';
import type { HubConfig } from '../../config/schema/hub.js';

export type PaConfig = Static<typeof HubPa>;

export function paConfig(config: HubConfig): PaConfig {
  return Value.Default(HubPa, structuredClone(config.pa ?? {})) as PaConfig;
}
