// The kiosk's supervision section: the automatic test alarm (EN 81-28: at
// least every 72 h, over the alarm's own path) and the local self-tests.
import { Type, type Static } from '@sinclair/typebox';
import { Strict } from './common.js';

export const Supervision = Strict(
  {
    enabled: Type.Boolean({ default: true, description: 'run the scheduled test; off: only on demand (hub command supervision.test, local POST /supervision/test)' }),
    intervalS: Type.Integer({ minimum: 10, maximum: 2_592_000, default: 259_200, description: 'seconds between scheduled tests (EN 81-28: at most 72 h = 259200)' }),
    jitterS: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 2_592_000,
        description: 'each test is moved by up to this many seconds either way, so a fleet does not call at once; default 10 % of intervalS. The first test of a kiosk is at a random point of its first interval',
      }),
    ),
    graceS: Type.Integer({ minimum: 0, maximum: 2_592_000, default: 3600, description: 'the hub raises an alarm when the last passed test is older than intervalS + graceS' }),
    target: Type.String({ default: '', maxLength: 500, description: 'SIP URI of the test answerer; empty: the first desk of sip.targets.emergency' }),
    answerTimeoutMs: Type.Integer({ minimum: 500, maximum: 60_000, default: 10_000, description: 'the test INVITE must be answered within this' }),
    toneTimeoutMs: Type.Integer({ minimum: 500, maximum: 30_000, default: 5000, description: 'audio-out / audio-in: the answerer\'s report and its tone must come within this of the answer' }),
    dtmfTimeoutMs: Type.Integer({ minimum: 200, maximum: 30_000, default: 3000, description: 'the answerer\'s DTMF 2 must come within this of our 1' }),
    screenHeartbeatS: Type.Integer({ minimum: 0, maximum: 3600, default: 30, description: 'a screen page that pinged the kiosk and then stays silent this long raises the screen fault; 0: not watched' }),
    screenStartS: Type.Integer({ minimum: 0, maximum: 3600, default: 90, description: 'a kiosk with a screen (display.enabled) whose page has not connected this long after start-up raises the screen fault (the kiosk browser did not start or cannot reach the kiosk); 0: not watched' }),
    clockMaxOffsetMs: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 2000, description: 'the clock fault when the kiosk clock differs from the hub\'s by more than this' }),
  },
  'automatic test alarm and self-tests (docs/supervision.md)',
);

export type SupervisionConfig = Static<typeof Supervision>;

// The defaults, without TypeBox: a kiosk does not load the schema library at run time (idle_rss_mb).
export { supervisionConfig } from './supervision-defaults.js';
