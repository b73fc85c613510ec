// sip.js's parser with its rule table decoded once (src/intercom/sip-grammar.ts)
// parses exactly as sip.js's own: the same results, field by field, for the
// start rules sip.js uses and for whole messages, and -1 for what it rejects.
import { strict as assert } from 'node:assert';
import { isDeepStrictEqual } from 'node:util';
import { Core, Grammar, URI, NameAddrHeader } from 'sip.js';
import * as own from 'sip.js/lib/grammar/pegjs/dist/grammar.js';
import { copyParsed, hoistRuleTable, ParseMemo, PER_CALL_TOKEN, sipParseMemo, useFastSipGrammar } from '../../src/intercom/sip-grammar.js';

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
  ['Via', 'SIP/2.0/TCP [::1]:5070;branch=z9hG4bK-1;alias;x-flag'],
  ['To', '<sip:desk@127.0.0.1:5070;lr;transport=udp?X-A=b>;tag=999SIPpTag011;x-empty'],
  ['From', 'sip:kiosk@h;tag=1'],
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

  it('remembers results: a repeated input gets an equal result it may change without changing the next one', () => {
    for (const [rule, input] of CASES) {
      const first = Grammar.parse(input, rule);
      const again = Grammar.parse(input, rule);
      assert.ok(isDeepStrictEqual(again, ownParse(input, rule)), `${rule} "${input}": remembered result differs from sip.js's own`);
      assert.ok(isDeepStrictEqual(first, again), `${rule} "${input}"`);
      if (again && typeof again === 'object') assert.notEqual(again, first, 'a fresh object each time');
    }
    const uri = Grammar.parse('sip:desk@127.0.0.1:5070;transport=udp;lr', 'SIP_URI') as URI;
    uri.setParam('transport', 'tcp');
    uri.user = 'changed';
    const na = Grammar.parse('"Help point 7" <sip:conc-north@127.0.0.1>;tag=x', 'Name_Addr_Header') as NameAddrHeader;
    na.setParam('tag', 'y');
    na.uri.host = 'elsewhere';
    const via = Grammar.parse('SIP/2.0/UDP 127.0.0.1:5101;branch=z9hG4bK776asdhds;rport=5101;received=127.0.0.1', 'Via') as Record<string, unknown>;
    via.branch = 'changed';
    assert.equal((Grammar.parse('sip:desk@127.0.0.1:5070;transport=udp;lr', 'SIP_URI') as URI).toString(), 'sip:desk@127.0.0.1:5070;transport=udp;lr');
    const na2 = Grammar.parse('"Help point 7" <sip:conc-north@127.0.0.1>;tag=x', 'Name_Addr_Header') as NameAddrHeader;
    assert.equal(na2.getParam('tag'), 'x');
    assert.equal(na2.uri.host, '127.0.0.1');
    assert.equal((Grammar.parse('SIP/2.0/UDP 127.0.0.1:5101;branch=z9hG4bK776asdhds;rport=5101;received=127.0.0.1', 'Via') as { branch: string }).branch, 'z9hG4bK776asdhds');
  });

  it('a response parsed again is parsed alike, from the memo', () => {
    const a = Core.Parser.parseMessage(MESSAGE, log) as Core.IncomingResponseMessage;
    const hits = sipParseMemo!.hits;
    const b = Core.Parser.parseMessage(MESSAGE, log) as Core.IncomingResponseMessage;
    assert.ok(sipParseMemo!.hits - hits >= 8, 'status line and headers from the memo');
    assert.ok(isDeepStrictEqual(a.headers, b.headers));
    assert.ok(isDeepStrictEqual(a.from, b.from) && isDeepStrictEqual(a.to, b.to) && isDeepStrictEqual(a.via, b.via));
    assert.notEqual(a.from, b.from);
  });

  it('a header differing from a remembered one only in its Via branch or its From or To tag parses as sip.js does', () => {
    const tokens = ['z9hG4bK776asdhds', 'z9hG4bK.-!%*_+`\'~1', 'A', '12345SIPpTag011', PER_CALL_TOKEN + 'x'];
    const forms = [
      ['Via', 'SIP/2.0/UDP 127.0.0.1:5101;branch=%;rport=5101;received=127.0.0.1'],
      ['Via', 'SIP/2.0/UDP 127.0.0.1:5101;BRANCH=%'],
      ['Via', 'SIP/2.0/UDP 127.0.0.1:5101 ; branch = %;rport'],
      ['Via', 'SIP/2.0/UDP 127.0.0.1:5101;branch=%;branch=other'],
      ['Via', 'SIP/2.0/UDP 127.0.0.1:5101;branch=%,SIP/2.0/UDP 10.0.0.1;branch=%'],
      ['Via', 'SIP/2.0/UDP 127.0.0.1:5101;branch=%;received=%'],
      ['From', '"Help point 7" <sip:conc-north@127.0.0.1;transport=udp>;tag=%'],
      ['From', '"%" <sip:%@127.0.0.1>;tag=%;x-more'],
      ['From', '<sip:kiosk@h;tag=%>;tag=%'],
      ['From', 'sip:kiosk@h;tag=%'],
      ['To', '<sip:desk@127.0.0.1:5070;lr;transport=udp?X-A=b>;tag=%;x-empty'],
      ['To', '<sip:desk@127.0.0.1:5070>;TAG=%'],
      ['To', '<sip:desk@127.0.0.1:5070>;tag=%<'],
    ];
    for (const [rule, form] of forms)
      for (const token of tokens) {
        const input = form!.replaceAll('%', token);
        for (let i = 0; i < 2; i++) assert.ok(isDeepStrictEqual(Grammar.parse(input, rule!), ownParse(input, rule!)), `${rule} "${input}" (${i ? 'again' : 'first'})`);
      }
    const misses = sipParseMemo!.misses;
    for (let i = 0; i < 5; i++) Grammar.parse(`SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKnew${i};rport`, 'Via');
    assert.ok(sipParseMemo!.misses - misses <= 1, 'one parse for the five branches');
  });

  it('the memo is bounded and keeps neither long inputs nor results it cannot copy', () => {
    let parses = 0;
    const memo = new ParseMemo((input) => (parses++, input.startsWith('odd') ? new Map() : { v: input }));
    memo.get('x'.repeat(ParseMemo.MAX_INPUT + 1), 'R');
    memo.get('x'.repeat(ParseMemo.MAX_INPUT + 1), 'R');
    assert.equal(parses, 2);
    memo.get('odd', 'R');
    memo.get('odd', 'R');
    assert.equal(parses, 4);
    for (let i = 0; i < ParseMemo.MAX_ENTRIES + 10; i++) memo.get(`k${i}`, 'R');
    assert.equal(parses, 4 + ParseMemo.MAX_ENTRIES + 10);
    memo.get(`k${ParseMemo.MAX_ENTRIES + 9}`, 'R');
    assert.equal(parses, 4 + ParseMemo.MAX_ENTRIES + 10, 'the newest entry is kept after the memo was dropped');
    assert.deepEqual(copyParsed([1, { a: 'b' }]), [1, { a: 'b' }]);
  });

  it('refuses a parser file of another shape and leaves nothing half-done', () => {
    assert.throws(() => hoistRuleTable('export const parse = () => 1;'), /not found/);
    const odd = '\nfunction peg$parse(input, options) {\n    const peg$bytecode = [\n        somethingElse(),\n    ];\n}\n';
    assert.throws(() => hoistRuleTable(odd), /more than decoded strings/);
  });
});
