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
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as sip from 'sip.js';
import { Grammar } from 'sip.js';

type PegParse = (input: string, options: { startRule: string; data?: unknown }) => unknown;

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
      Grammar.parse = (input: string, startRule: string) => {
        const options: { startRule: string; data?: unknown } = { startRule };
        try {
          mod.parse(input, options);
        } catch {
          options.data = -1;
        }
        return options.data;
      };
      return null;
    } catch (err) {
      return `sip.js parses with its own grammar module (${(err as Error).message})`;
    }
  })();
  return state;
}
