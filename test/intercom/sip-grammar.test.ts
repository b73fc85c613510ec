// sip.js's parser with its rule table decoded once (src/intercom/sip-grammar.ts)
// parses exactly as sip.js's own: the same results, field by field, for the
// start rules sip.js uses and for whole messages, and -1 for what it rejects.
import { strict as assert } from 'node:assert';
import { Core, Grammar, URI, NameAddrHeader } from 'sip.js';
import * as own from 'sip.js/lib/grammar/pegjs/dist/grammar.js';
import { hoistRuleTable, useFastSipGrammar } from '../../src/intercom/sip-grammar.js';

const ownParse = (input: string, startRule: string): unknown => {
  const options: { startRule: string; data?: unknown } = { startRule };
  try {
    (own as unknown as { parse: (i: string, o: object) => unknown }).parse(input, options);
  } catch {
    options.data = -1;
  }
  return options.data;
};

const CASES: [string, string][] = [
  ['SIP_URI', 'sip:desk@127.0.0.1:5070;transport=udp;lr'],
  ['SIP_URI', 'sips:alice:secret@example.com;maddr=10.0.0.1?subject=project&priority=urgent'],
  ['SIP_URI', 'not a uri'],
  ['absoluteURI', 'wss://sip.example.com:8443/ws'],
  ['Name_Addr_Header', '"Help point 7" <sip:conc-north@127.0.0.1;transport=udp>;tag=a73kszlfl'],
  ['Name_Addr_Header', '<sip:desk@[::1]:5060>'],
  ['Via', 'SIP/2.0/UDP 127.0.0.1:5101;branch=z9hG4bK776asdhds;rport=5101;received=127.0.0.1'],
  ['Via', 'SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKnashds7'],
  ['Contact', '<sip:desk@127.0.0.1:5070;transport=UDP>;expires=3600, "B" <sip:b@h>;q=0.5'],
  ['Contact', '*'],
  ['Record_Route', '<sip:127.0.0.1:5060;lr;ftag=abc>'],
  ['CSeq', '314159 INVITE'],
  ['Call_ID', 'a84b4c76e66710@pc33.atlanta.com'],
  ['Content_Length', '142'],
  ['Content_Type', 'application/sdp'],
  ['Request_Response', 'INVITE sip:desk@127.0.0.1:5070 SIP/2.0'],
  ['Request_Response', 'SIP/2.0 486 Busy Here'],
  ['Request_Response', 'GARBAGE'],
  ['Session_Expires', '1800;refresher=uac'],
  ['Event', 'dialog;id=1'],
  ['uuid', 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6'],
  ['uuid', 'nope'],
];

const MESSAGE = [
  'SIP/2.0 200 OK',
  'Via: SIP/2.0/UDP 127.0.0.1:5101;branch=z9hG4bK776asdhds;rport=5101;received=127.0.0.1',
  'Record-Route: <sip:127.0.0.1:5060;lr>',
  'From: "Kiosk" <sip:conc-north@127.0.0.1>;tag=abc123',
  'To: <sip:desk@127.0.0.1:5070>;tag=999SIPpTag011',
  'Call-ID: a84b4c76e66710@pc33.atlanta.com',
  'CSeq: 1 INVITE',
  'Contact: <sip:desk@127.0.0.1:5070;transport=UDP>',
  'Content-Type: application/sdp',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

const log = { log() {}, debug() {}, warn() {}, error() {} } as never;

/** Plain data of a parse result (URIs and name-addrs compared by what they hold and their class). */
function plain(v: unknown): unknown {
  if (v instanceof URI) return { uri: v.toString(), cls: 'URI' };
  if (v instanceof NameAddrHeader) return { nameAddr: v.toString(), display: v.displayName, uri: v.uri.toString(), params: { ...v.parameters } };
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

describe('sip.js grammar with its rule table decoded once', () => {
  before(async () => assert.equal(await useFastSipGrammar(), null));

  it('is in use', () => {
    // sip.js's own entry point (which calls its module's parser, pegGrammar) is replaced
    assert.ok(!String(Grammar.parse).includes('pegGrammar'));
  });

  for (const [rule, input] of CASES) {
    it(`parses ${rule} "${input}" as sip.js does`, () => {
      assert.deepEqual(plain(Grammar.parse(input, rule)), plain(ownParse(input, rule)));
    });
  }

  it('parses a whole response as sip.js does', () => {
    const fast = Core.Parser.parseMessage(MESSAGE, log) as Core.IncomingResponseMessage;
    assert.ok(fast);
    assert.equal(fast.statusCode, 200);
    assert.equal(fast.from.uri.toString(), 'sip:conc-north@127.0.0.1');
    assert.equal(fast.fromTag, 'abc123');
    assert.equal(fast.toTag, '999SIPpTag011');
    assert.equal(fast.cseq, 1);
    assert.equal(fast.method, 'INVITE');
    assert.equal(fast.viaBranch, 'z9hG4bK776asdhds');
    const contact = fast.parseHeader('contact') as NameAddrHeader;
    assert.ok(contact instanceof NameAddrHeader);
    assert.equal(contact.uri.port, 5070);
  });

  it('refuses a parser file of another shape and leaves nothing half-done', () => {
    assert.throws(() => hoistRuleTable('export const parse = () => 1;'), /not found/);
    const odd = '\nfunction peg$parse(input, options) {\n    const peg$bytecode = [\n        somethingElse(),\n    ];\n}\n';
    assert.throws(() => hoistRuleTable(odd), /more than decoded strings/);
  });
});
