// The hub reads a command's plain answer ({"type":"command-result","id":…,"ok":…}) by an exact pattern instead
// of JSON.parse and the schema (src/protocol/parse.ts): for every frame it must give what the full path gives,
// the same message or the same refusal.
import { strict as assert } from 'node:assert';
import { parseFromKiosk, type Parsed } from '../../src/protocol/parse.js';
import { validator, errorsText } from '../../src/validators/index.js';

/** The full path alone: JSON.parse, then the kiosk-to-hub schema. */
function full(raw: string | Buffer): Parsed<unknown> {
  let data: unknown;
  try {
    data = JSON.parse(raw.toString());
  } catch {
    return { ok: false, error: 'frame is not JSON' };
  }
  const check = validator('kiosk-to-hub');
  if (!check(data)) {
    const t = (data as { type?: unknown })?.type;
    return { ok: false, error: `invalid ${typeof t === 'string' ? `"${t.slice(0, 32)}"` : 'untyped'} message: ${errorsText(check.errors)}` };
  }
  return { ok: true, msg: data };
}

const IDS = ['', 'cmd-1', 'cmd-mfx1a2b-0a1b2c3d', 'x'.repeat(127), 'x'.repeat(128), 'x'.repeat(129), '😀'.repeat(128), '😀'.repeat(129), 'ü 中', 'a"b', 'a\\b', 'a\u0000b', 'a\nb', 'a\u001fb', 'a\u007fb', '\uD800', '\uFFFF', '</script>'];

describe('hub: quick read of a command answer', () => {
  it('gives what JSON.parse and the schema give, for answers as kiosks write them', () => {
    for (const id of IDS)
      for (const ok of [true, false]) {
        const raw = JSON.stringify({ type: 'command-result', id, ok });
        for (const frame of [raw, Buffer.from(raw)]) assert.deepEqual(parseFromKiosk(frame), full(frame), raw);
      }
  });

  it('refuses or reads in full every variation, as the full path does', () => {
    const frames = [
      '{"type":"command-result","id":"c1","ok":true}',
      '{"type":"command-result","id":"c1","ok":true} ',
      '{"type":"command-result", "id":"c1","ok":true}',
      '{"id":"c1","type":"command-result","ok":true}',
      '{"type":"command-result","id":"c1","ok":"true"}',
      '{"type":"command-result","id":"c1","ok":1}',
      '{"type":"command-result","id":"c1","ok":tru}',
      '{"type":"command-result","id":"c1","ok":true,"ok":false}',
      '{"type":"command-result","id":"c1","ok":true,"x":1}',
      '{"type":"command-result","id":"c1","ok":false,"error":"busy"}',
      '{"type":"command-result","id":"c\\u0000","ok":true}',
      '{"type":"command-result","id":"c\\"","ok":true}',
      '{"type":"command-result","id":1,"ok":true}',
      '{"type":"command-result","ok":true}',
      '{"type":"command-result","id":"c1"}',
      '{"type":"command-resul","id":"c1","ok":true}',
      '{"type":"command-result","id":"c1","ok":true}}',
      '{"type":"command-result","id":"c1","ok":true}\n',
      '\n{"type":"command-result","id":"c1","ok":true}',
      '{"type":"command-result","id":"c1\n","ok":true}',
      `{"type":"command-result","id":"${'x'.repeat(129)}","ok":true}`,
    ];
    for (const f of frames) assert.deepEqual(parseFromKiosk(Buffer.from(f)), full(f), f);
  });
});
