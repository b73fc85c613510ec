// The kiosk configuration schema. Source of both the JSON Schema published in
// config/schema/kiosk.schema.json (npm run build writes it) and the TS type.
import { Type, type Static } from '@sinclair/typebox';
import { Id, LogLevel, Port, Strict } from './common.js';
import { Site, Location } from './site.js';
import { Io } from './io.js';
import { Sip } from './sip.js';
import { Audio, Pa } from './audio.js';
import { Display } from './display.js';
import { HubLink } from './hublink.js';
import { Supervision } from './supervision.js';
import { System } from './system.js';

export const KioskConfigSchema = Strict(
  {
    $schema: Type.Optional(Type.String()),
    id: Id,
    name: Type.Optional(Type.String()),
    configVersion: Type.Integer({ minimum: 0, default: 0, description: 'set by the hub; 0 for a local file' }),
    site: Site,
    zone: Type.String({ description: 'id of one of site.zones' }),
    location: Location,
    log: Strict({ level: LogLevel }),
    local: Strict(
      {
        host: Type.Literal('127.0.0.1', { default: '127.0.0.1', description: 'the local interface is never exposed' }),
        port: Port,
      },
      'local interface: screen, sim controls, health',
    ),
    dataDir: Type.String({ default: 'var/kiosks/{id}', description: 'store directory, relative to the working directory; {id} becomes the kiosk id' }),
    io: Io,
    sip: Sip,
    audio: Audio,
    pa: Pa,
    display: Display,
    hub: Type.Optional(HubLink),
    supervision: Type.Optional(Supervision),
    system: Type.Optional(System),
    scheduling: Type.Optional(
      Strict(
        {
          backgroundNiceSteps: Type.Integer({
            minimum: 0,
            maximum: 39,
            default: 10,
            description:
              "V8's background threads (optimising compiler, garbage collector helpers) this many nice values below the main thread, which runs the emergency path, so it preempts them (at most nice 19); the file-I/O pool keeps the main thread's priority; 0: leave them; applied at start",
          }),
        },
        'thread priorities of the kiosk process',
      ),
    ),
  },
  'help-point kiosk configuration',
);

export type KioskConfig = Static<typeof KioskConfigSchema>;
