// The kiosk <-> hub protocol: one module of schemas shared by both sides.
// Every frame is one JSON object with "type"; every frame received is
// validated against these schemas before anything acts on it.
import { Type, type Static } from '@sinclair/typebox';

import { MAX_EVENTS_PER_BATCH, MAX_VERSION } from './constants.js';

// The protocol's numbers live in constants.ts so a kiosk can read them without loading these schemas.
export { PROTOCOL_VERSION, MAX_FRAME_BYTES, MAX_VERSION, MAX_EVENTS_PER_BATCH } from './constants.js';

const Base = { id: Type.Optional(Type.String({ maxLength: 128 })) };

export const Hello = Type.Object(
  {
    ...Base,
    type: Type.Literal('hello'),
    protocol: Type.Integer({ minimum: 1 }),
    kiosk: Type.String({ maxLength: 64 }),
    firmware: Type.String({ maxLength: 64 }),
    configVersion: Type.Integer({ minimum: 0, maximum: MAX_VERSION }),
    capabilities: Type.Array(Type.String({ maxLength: 32 }), { maxItems: 64 }),
  },
  { additionalProperties: false },
);

export const Heartbeat = Type.Object(
  {
    ...Base,
    type: Type.Literal('heartbeat'),
    at: Type.String({ maxLength: 40 }),
    faults: Type.Array(Type.Object({ code: Type.String({ maxLength: 32 }), detail: Type.String({ maxLength: 500 }) }), { maxItems: 32 }),
    outbox: Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 }),
    /** seconds since the kiosk process started (protocol 3) */
    uptimeS: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 })),
    /** the board's boot id (Linux: /proc/sys/kernel/random/boot_id), new at every boot (protocol 5) */
    bootId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);

export const ErrorMsg = Type.Object(
  { ...Base, type: Type.Literal('error'), code: Type.String(), message: Type.String({ maxLength: 2000 }) },
  { additionalProperties: false },
);

export const Welcome = Type.Object(
  { ...Base, type: Type.Literal('welcome'), protocol: Type.Integer(), hub: Type.String(), time: Type.Number() },
  { additionalProperties: false },
);

/**
 * A clock sample (protocol 4; sent only to a hub whose welcome says >= 4):
 * the kiosk's send time t0 (its wall clock, ms with a fraction); the hub
 * answers with the same t0, when the frame arrived (t1) and when the answer
 * left (t2), on its own clock. See src/hublink/clock-sync.ts.
 */
export const TimeRequest = Type.Object({ ...Base, type: Type.Literal('time'), t0: Type.Number() }, { additionalProperties: false });
export const TimeReply = Type.Object({ ...Base, type: Type.Literal('time'), t0: Type.Number(), t1: Type.Number(), t2: Type.Number() }, { additionalProperties: false });

/** Recorded kiosk events, oldest first, delivered at least once; ids are `<kiosk>:<boot>:<seq>`. */
export const Events = Type.Object(
  {
    ...Base,
    type: Type.Literal('events'),
    batch: Type.Array(
      Type.Object(
        {
          id: Type.String({ maxLength: 200 }),
          seq: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
          at: Type.String({ maxLength: 40 }),
          type: Type.String({ maxLength: 64 }),
          data: Type.Unknown(),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: MAX_EVENTS_PER_BATCH },
    ),
  },
  { additionalProperties: false },
);

/** The hub has stored these events (or had them already): the kiosk may drop them from its outbox. */
export const EventsAck = Type.Object({ ...Base, type: Type.Literal('events-ack'), ids: Type.Array(Type.String({ maxLength: 200 }), { maxItems: MAX_EVENTS_PER_BATCH }) }, { additionalProperties: false });

/** A full kiosk configuration from the hub; the kiosk validates it with the same schema as the CLI. */
export const ConfigPush = Type.Object(
  { ...Base, type: Type.Literal('config'), version: Type.Integer({ minimum: 1, maximum: MAX_VERSION }), document: Type.Record(Type.String(), Type.Unknown()) },
  { additionalProperties: false },
);
const SectionList = Type.Array(Type.String({ maxLength: 32 }), { maxItems: 32 });
/**
 * Validated, persisted and applied (protocol 1: only the version). From
 * protocol 2, how each changed top-level section took effect: `live` now,
 * `deferred` once the call in progress ends, `restart` by a clean restart of
 * the kiosk (it restarts itself as soon as no call is in progress). The
 * version becomes last-known-good after `healthWindowS` healthy seconds; the
 * outcome follows as the recorded event `config.healthy` or `config.rollback`.
 * `repeat`: this version with this document was already here; nothing was done.
 */
export const ConfigAck = Type.Object(
  {
    ...Base,
    type: Type.Literal('config-ack'),
    version: Type.Integer({ minimum: 0, maximum: MAX_VERSION }),
    live: Type.Optional(SectionList),
    deferred: Type.Optional(SectionList),
    restart: Type.Optional(SectionList),
    repeat: Type.Optional(Type.Boolean()),
    healthWindowS: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);
/** Why a config was refused (protocol 2). */
export const ConfigNackCode = Type.Union(
  ['invalid', 'conflict', 'stale', 'rolled-back', 'wrong-kiosk', 'apply-failed'].map((c) => Type.Literal(c)),
);
export const ConfigNack = Type.Object(
  {
    ...Base,
    type: Type.Literal('config-nack'),
    version: Type.Integer({ minimum: 0, maximum: MAX_VERSION }),
    code: Type.Optional(ConfigNackCode),
    errors: Type.Array(Type.Object({ path: Type.String({ maxLength: 300 }), message: Type.String({ maxLength: 500 }) }), { maxItems: 100 }),
  },
  { additionalProperties: false },
);

/**
 * Data of the recorded events a kiosk sends about its config (type in
 * `events` batches; delivered at least once, in order, across restarts):
 *   config.applied  {version, source, live?, deferred?, restart?}
 *   config.healthy  {version, windowS}: the version is now last-known-good
 *   config.rollback {version, to, reason, at}: the version failed and the kiosk runs `to` again
 */
export const ConfigHealthyEvent = Type.Object({ version: Type.Integer(), windowS: Type.Number() });
export const ConfigRollbackEvent = Type.Object({
  /** the version that failed */
  version: Type.Integer(),
  /** the last-known-good version the kiosk went back to */
  to: Type.Integer(),
  /** why, in words a technician understands */
  reason: Type.String(),
  /** when the failure was seen (ISO time) */
  at: Type.String(),
});
export type ConfigRollbackEvent = Static<typeof ConfigRollbackEvent>;

const LocalText = Type.Object({ en: Type.String({ minLength: 1, maxLength: 2000 }), 'zh-CN': Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })) }, { additionalProperties: false });
const Cmd = <N extends string, A extends import('@sinclair/typebox').TSchema>(name: N, args: A) =>
  Type.Object({ ...Base, type: Type.Literal('command'), id: Type.String({ minLength: 1, maxLength: 128 }), command: Type.Literal(name), args }, { additionalProperties: false });

/** Commands from the hub; each becomes one bus event on the kiosk (see src/hublink/commands.ts). */
export const Command = Type.Union([
  // PA: the audio engine checks the announcement itself (channel, clip, message...)
  Cmd('pa.play', Type.Record(Type.String(), Type.Unknown())),
  Cmd('pa.stop', Type.Object({ id: Type.String({ maxLength: 128 }) }, { additionalProperties: false })),
  // A live page from the hub's gateway: which RTP stream (group, port, SSRC) carries it, with what priority;
  // active=false ends it (the dispatcher released Talk). See src/audio/rtp-page.ts.
  Cmd(
    'pa.page',
    Type.Object(
      {
        id: Type.String({ minLength: 1, maxLength: 128 }),
        active: Type.Boolean(),
        // the page's multicast group per zone: a kiosk takes its own zone's (else the first)
        groups: Type.Optional(
          Type.Array(
            Type.Object(
              { zone: Type.Optional(Type.String({ maxLength: 64 })), group: Type.String({ pattern: '^\\d{1,3}(\\.\\d{1,3}){3}$', maxLength: 15 }), port: Type.Integer({ minimum: 1, maximum: 65535 }) },
              { additionalProperties: false },
            ),
            { minItems: 1, maxItems: 64 },
          ),
        ),
        ssrc: Type.Optional(Type.Integer({ minimum: 0, maximum: 0xffffffff })),
        priority: Type.Optional(Type.Integer({ minimum: 1, maximum: 255 })),
        emergency: Type.Optional(Type.Boolean()),
        text: Type.Optional(LocalText),
        missAfterMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 10000 })),
      },
      { additionalProperties: false },
    ),
  ),
  Cmd('screen.message', Type.Object({ id: Type.String({ maxLength: 128 }), text: LocalText, until: Type.Optional(Type.String({ maxLength: 40 })) }, { additionalProperties: false })),
  Cmd(
    'incident.mode',
    Type.Object(
      {
        active: Type.Boolean(),
        kind: Type.Union([Type.Literal('incident'), Type.Literal('evacuation')]),
        text: Type.Optional(LocalText),
        blockedExits: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 50 })),
        /** warning colour of the incident's level (the screen shows it) */
        colour: Type.Optional(Type.Union(['blue', 'yellow', 'orange', 'red'].map((l) => Type.Literal(l)))),
        level: Type.Optional(LocalText),
      },
      { additionalProperties: false },
    ),
  ),
  Cmd('drill.mode', Type.Object({ active: Type.Boolean() }, { additionalProperties: false })),
  Cmd('crowd.level', Type.Object({ level: Type.Union(['none', 'blue', 'yellow', 'orange', 'red'].map((l) => Type.Literal(l))) }, { additionalProperties: false })),
  Cmd('relay.pulse', Type.Object({ ms: Type.Optional(Type.Integer({ minimum: 10, maximum: 60000 })) }, { additionalProperties: false })),
  Cmd('call.back', Type.Object({ kind: Type.Optional(Type.Union([Type.Literal('emergency'), Type.Literal('information')])) }, { additionalProperties: false })),
  Cmd('desk.info', Type.Object({ callId: Type.Optional(Type.String({ maxLength: 128 })), etaMin: Type.Optional(Type.Integer({ minimum: 0, maximum: 600 })), responder: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false })),
  Cmd('chat', Type.Object({ callId: Type.Optional(Type.String({ maxLength: 128 })), text: Type.String({ minLength: 1, maxLength: 500 }) }, { additionalProperties: false })),
  // The alarm: a dispatcher acknowledges or resets it. `by` is 'hub:<user>', filled by the hub from the
  // session, never from the request body; the kiosk acts only when alarmId is its open alarm.
  Cmd('alarm.ack', Type.Object({ alarmId: Type.String({ minLength: 1, maxLength: 128 }), by: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false })),
  Cmd('alarm.reset', Type.Object({ alarmId: Type.String({ minLength: 1, maxLength: 128 }), by: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false })),
  // Supervision: run a test now. The result comes once the test has finished: ok = passed; else the error names
  // the test, the failed step and why. The whole verdict is the recorded event supervision.test (trigger 'hub').
  Cmd('supervision.test', Type.Object({}, { additionalProperties: false })),
  // Facilities: restart the kiosk process (its supervisor starts it again). `by` is 'hub:<user>' from the session.
  // Refused while a call, a test or an alarm is open; the result says which. ok = accepted, the kiosk is restarting.
  Cmd('kiosk.restart', Type.Object({ by: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false })),
  Cmd('kiosk.reboot', Type.Object({ by: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false })),
]);
export type Command = Static<typeof Command>;

export const CommandResult = Type.Object(
  { ...Base, type: Type.Literal('command-result'), id: Type.String({ maxLength: 128 }), ok: Type.Boolean(), error: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false },
);

export const KioskToHub = Type.Union([Hello, Heartbeat, Events, ConfigAck, ConfigNack, CommandResult, ErrorMsg, TimeRequest]);
export const HubToKiosk = Type.Union([Welcome, EventsAck, ConfigPush, Command, ErrorMsg, TimeReply]);
export type KioskToHub = Static<typeof KioskToHub>;
export type HubToKiosk = Static<typeof HubToKiosk>;

// Parsing and validating received frames: parse.ts (validators compiled ahead of time from these schemas).
