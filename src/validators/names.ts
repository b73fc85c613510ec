// The names of the validators compiled ahead of time (see schemas.ts), kept
// apart so that loading a validator never loads the schemas themselves.
export const VALIDATOR_NAMES = ['kiosk-config', 'hub-config', 'kiosk-defaults', 'site-file', 'wayfinding', 'kiosk-to-hub', 'hub-to-kiosk', 'pa-play'] as const;
export type ValidatorName = (typeof VALIDATOR_NAMES)[number];
