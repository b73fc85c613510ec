// A faster start for sip.js's SIP parser. sip.js 0.21 ships a peggy parser in
// "bytecode" form whose rule table (about 230 rules, each a string) is decoded
// into number arrays at the start of every parse, and sip.js parses each header
// of each message on its own: a 200 OK costs a dozen full decodes. Profiled in
// a kiosk process, that decoding was most of the CPU between a desk's 200 OK
// and our first RTP packet (setup_latency_p99_ms), and most of its garbage.
//
// useFastSipGrammar() loads the same generated parser, unchanged but for the
// rule table, which it decodes once when the module loads (the table is pure
// data: numbers read by the interpreter; the constants holding the grammar's
// actions are still made per parse, as generated), and points sip.js's
// Grammar.parse at it. sip.js's own modules call Grammar.parse through that
// object, so the whole stack uses it. When the file is not shaped as expected
// (another sip.js version) nothing changes and the reason is returned.
//
// Results are also remembered by start rule and input (ParseMemo): the header
// values of a call repeat from message to message (Via, From, Call-ID and CSeq
// of a 100 Trying again in the 180 and the 200; the desk's Contact, the
// status lines and Content-Type from call to call), and each parse allocates
// enough that the 200 OK alone used to start a scavenge in a kiosk with a 1 MB
// semi-space. sip.js keeps and may change what a parse returns (a message's
// headers hold it), so the memo holds its own copy and hands out fresh ones:
// plain objects, arrays, URIs and name-addrs field by field; a result
// holding anything else is not remembered.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as sip from 'sip.js';
import { Grammar, NameAddrHeader, URI } from 'sip.js';
import { ownCopy } from './transports/routing.js';

type PegParse = (input: string, options: { startRule: string; data?: unknown }) => unknown;

const NOT_COPYABLE = Symbol('not copyable');

/** Prototypes a parse result may hold besides plain objects and arrays: sip.js's URI and name-addr classes. */
const COPYABLE = new Set<unknown>([Object.prototype, null, URI.prototype, NameAddrHeader.prototype]);

/**
 * A copy of a parse result that shares nothing mutable with it, or NOT_COPYABLE: arrays, plain objects, URIs and
 * name-addrs copied field by field with their own class (no constructor runs, so nothing is normalised twice).
 */
export function copyParsed(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const x of v) {
      const c = copyParsed(x);
      if (c === NOT_COPYABLE) return NOT_COPYABLE;
      out.push(c);
    }
    return out;
  }
  const proto = Object.getPrototypeOf(v) as object | null;
  if (!COPYABLE.has(proto)) return NOT_COPYABLE;
  const out = Object.create(proto) as Record<string, unknown>;
  for (const k of Object.keys(v)) {
    const c = copyParsed((v as Record<string, unknown>)[k]);
    if (c === NOT_COPYABLE) return NOT_COPYABLE;
    out[k] = c;
  }
  return out;
}

/**
 * What changes from call to call in a header the memo would otherwise see anew each call: the top Via's branch and
 * the tag of From and To (a token, RFC 3261 25.1, ending the parameter). They are swapped for PER_CALL_TOKEN in the
 * memo's key, and the remembered result (parsed with PER_CALL_TOKEN in their place: the same rule path, a token
 * being read as a whole wherever it stands) gets the real token back where PER_CALL_TOKEN was. Only in the plain
 * form sip.js and most peers write (no spaces around ';' and '='); anything else is parsed as it stands.
 */
const PER_CALL: Record<string, RegExp> = {
  Via: /;branch=([A-Za-z0-9.!%*_+`'~-]+)(?=;|$)/i,
  From: /;tag=([A-Za-z0-9.!%*_+`'~-]+)(?=;|$)/i,
  To: /;tag=([A-Za-z0-9.!%*_+`'~-]+)(?=;|$)/i,
};
export const PER_CALL_TOKEN = 'hpPerCallToken7';

/**
 * A copy of a remembered result with `token` where PER_CALL_TOKEN was, or NOT_COPYABLE unless that was exactly one
 * whole string value (a result holding it inside a longer string, or twice, is not one this swap fits).
 */
function copySwapped(v: unknown, token: string): unknown {
  let swaps = 0;
  const walk = (x: unknown): unknown => {
    if (typeof x === 'string') {
      if (x === PER_CALL_TOKEN) return swaps++, token;
      if (x.includes(PER_CALL_TOKEN)) swaps = 2;
      return x;
    }
    if (x === null || typeof x !== 'object') return x;
    const out: unknown = Array.isArray(x) ? [] : Object.create(Object.getPrototypeOf(x) as object | null);
    for (const k of Object.keys(x)) (out as Record<string, unknown>)[k] = walk((x as Record<string, unknown>)[k]);
    return out;
  };
  const out = walk(v);
  return swaps === 1 ? out : NOT_COPYABLE;
}

/**
 * Parse results by start rule and input, each kept as a private copy and handed out as a fresh copy. Bounded:
 * inputs longer than MAX_INPUT are not kept, and the whole memo is dropped when it holds MAX_ENTRIES (call-ids and
 * tags change per call; what repeats comes back at once).
 */
export class ParseMemo {
  static readonly MAX_INPUT = 300;
  static readonly MAX_ENTRIES = 512;
  private readonly byRule = new Map<string, Map<string, unknown>>();
  private size = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly parse: (input: string, startRule: string) => unknown) {}

  get(input: string, startRule: string): unknown {
    if (input.length > ParseMemo.MAX_INPUT) return this.parse(input, startRule);
    const m = PER_CALL[startRule]?.exec(input);
    // From and To: only a tag after the name-addr's '>' (a header parameter, never one of the URI's)
    const fits = m && !input.includes(PER_CALL_TOKEN) && (startRule === 'Via' ? !input.includes('>') : input.includes('>') && m.index > input.lastIndexOf('>'));
    if (fits) {
      const at = m.index + m[0].length - m[1]!.length;
      const kept = this.remembered(input.slice(0, at) + PER_CALL_TOKEN + input.slice(at + m[1]!.length), startRule);
      const out = kept === NOT_COPYABLE ? kept : copySwapped(kept, m[1]!);
      if (out !== NOT_COPYABLE) return out;
    }
    return this.lookup(input, startRule);
  }

  /** The kept copy for this input (parsed now if new), or NOT_COPYABLE: for the swap, which copies it itself. */
  private remembered(input: string, startRule: string): unknown {
    const rule = this.byRule.get(startRule);
    if (rule?.has(input)) {
      this.hits++;
      return rule.get(input);
    }
    this.lookup(input, startRule);
    return this.byRule.get(startRule)?.get(input) ?? NOT_COPYABLE;
  }

  private lookup(input: string, startRule: string): unknown {
    let rule = this.byRule.get(startRule);
    if (rule?.has(input)) {
      this.hits++;
      return copyParsed(rule.get(input));
    }
    this.misses++;
    // parsed from a private copy: the key and the strings in the result would otherwise keep the whole message alive
    input = ownCopy(input);
    const result = this.parse(input, startRule);
    const kept = copyParsed(result);
    if (kept === NOT_COPYABLE) return result;
    if (this.size >= ParseMemo.MAX_ENTRIES) {
      this.byRule.clear();
      this.size = 0;
      rule = undefined;
    }
    if (!rule) this.byRule.set(startRule, (rule = new Map()));
    rule.set(input, kept);
    this.size++;
    return result;
  }
}

/** The memo in front of the fast parser, once it is in use (for tests and figures). */
export let sipParseMemo: ParseMemo | undefined;

let state: Promise<string | null> | undefined;
const DEPS = 'helppoint.sip-grammar.imports';

/** The generated parser's source with its rule table hoisted to module level; throws when the shape is unexpected. */
export function hoistRuleTable(source: string, deps: Record<string, unknown> = sip): string {
  const open = '\n    const peg$bytecode = [\n';
  const start = source.indexOf(open);
  const end = start < 0 ? -1 : source.indexOf('\n    ];\n', start);
  const fn = source.indexOf('\nfunction peg$parse(input, options) {');
  if (start < 0 || end < 0 || fn < 0 || fn > start) throw new Error('peg$parse or its bytecode table not found');
  const rows = source.slice(start + open.length, end).split('\n');
  if (!rows.every((r) => /^ {8}peg\$decode\("(?:[^"\\]|\\.)*"\),?$/.test(r))) throw new Error('the bytecode table holds more than decoded strings');
  if (source.indexOf(open, end) >= 0) throw new Error('more than one bytecode table');
  const table = `const peg$bytecode = [\n${rows.join('\n').replaceAll('peg$decode(', 'peg$decodeOnce(')}\n];\n`;
  const decode = 'function peg$decodeOnce(s) {\n    return s.split("").map((ch) => ch.charCodeAt(0) - 32);\n}\n';
  let out = source.slice(0, fn + 1) + decode + table + source.slice(fn + 1, start + 1) + source.slice(end + '\n    ];\n'.length);
  // Its imports (sip.js's URI and NameAddrHeader classes) are handed in: the very classes sip.js uses, so
  // instanceof checks hold whatever URL the loader gave sip.js's modules.
  out = out.replace(/^import \{ ([\w, ]+) \} from "\.\.?\/[^"]+";$/gm, (_m, names: string) => {
    for (const n of names.split(',').map((x) => x.trim())) if (!(n in deps)) throw new Error(`the parser imports ${n}, which sip.js does not export`);
    return `const { ${names} } = globalThis[Symbol.for(${JSON.stringify(DEPS)})];`;
  });
  if (/^import /m.test(out)) throw new Error('the parser has imports of another form');
  return out;
}

/** Resolves with null once sip.js parses with the hoisted table, or with the reason it still uses its own. */
export function useFastSipGrammar(): Promise<string | null> {
  state ??= (async () => {
    try {
      const file = createRequire(import.meta.url).resolve('sip.js/lib/grammar/pegjs/dist/grammar.js');
      const code = hoistRuleTable(readFileSync(file, 'utf8'));
      const g = globalThis as Record<symbol, unknown>;
      g[Symbol.for(DEPS)] = sip;
      let mod: { parse: PegParse };
      try {
        mod = (await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`)) as { parse: PegParse };
      } finally {
        delete g[Symbol.for(DEPS)];
      }
      // sip.js's Grammar.parse, on the hoisted parser: the parse result is left in options.data, -1 when it fails
      const parse = (input: string, startRule: string) => {
        const options: { startRule: string; data?: unknown } = { startRule };
        try {
          mod.parse(input, options);
        } catch {
          options.data = -1;
        }
        return options.data;
      };
      const memo = new ParseMemo(parse);
      sipParseMemo = memo;
      Grammar.parse = (input: string, startRule: string) => memo.get(input, startRule);
      return null;
    } catch (err) {
      return `sip.js parses with its own grammar module (${(err as Error).message})`;
    }
  })();
  return state;
}
