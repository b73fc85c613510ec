// sipp as a scripted SIP peer. Built-in scenarios (-sn uas) or the project's
// own XML scenarios in test/sipp/. Per the field notes: the built-in uas does
// not echo Record-Route and waits 4 s at the end, so stop it only after it
// exits, or give it -m to bound the call count.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { start, type Managed } from './proc.js';
import { freePort, freePortRun } from './ports.js';
import { requireTool } from './tools.js';

export interface Sipp {
  proc: Managed;
  dir: string;
  port: number;
  uri: string;
  stop(): Promise<void>;
}

/** `host`: the loopback address sipp binds (127.0.0.2 plays a stranger on another address). */
export async function startSipp(opts: { scenario?: string; builtin?: string; args?: string[]; port?: number; user?: string; host?: string } = {}): Promise<Sipp> {
  const bin = requireTool('sipp', 'sip-tester');
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? (await freePort(host));
  const scenario = opts.scenario ? ['-sf', opts.scenario] : ['-sn', opts.builtin ?? 'uas'];
  // sipp also binds media ports (6000 and 6002 by default) and a control port (8888): two sipps in test
  // processes side by side collided there, and the second one quit at start. Each gets its own.
  const media = await mediaPorts(host);
  const control = await freePort('127.0.0.1');
  const args = [...scenario, '-i', host, '-p', String(port), '-mp', String(media), '-cp', String(control), '-nostdin', '-trace_err', '-trace_msg', ...(opts.args ?? [])];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hp-sipp-')); // sipp writes its traces into its working folder
  const proc = start('sipp', bin, args, { cwd: dir });
  const tcp = /^t[1n]$/.test(opts.args?.[(opts.args?.indexOf('-t') ?? -2) + 1] ?? '');
  await bound(port, host, tcp, proc);
  return { proc, dir, port, uri: `sip:${opts.user ?? 'desk'}@${host}:${port}`, stop: () => proc.stop() };
}

/**
 * Whether a socket is bound to host:port (UDP) or listens there (TCP), from /proc/net/udp or /proc/net/tcp:
 * local addresses are little-endian hex IPv4 and a hex port; TCP state 0A is LISTEN.
 */
async function portInTable(port: number, host: string, tcp: boolean): Promise<boolean> {
  const { readFile } = await import('node:fs/promises');
  const hexHost = host
    .split('.')
    .map((b) => Number(b).toString(16).toUpperCase().padStart(2, '0'))
    .reverse()
    .join('');
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const table = await readFile(tcp ? '/proc/net/tcp' : '/proc/net/udp', 'utf8');
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4) continue;
    const [addr, p] = f[1]!.split(':');
    if (p !== hexPort || (addr !== hexHost && addr !== '00000000')) continue;
    if (!tcp || f[3] === '0A') return true;
  }
  return false;
}

/** Four free ports from an even one p, reserved: sipp's audio RTP on p and video RTP on p+2 (with their odd neighbours). */
function mediaPorts(host: string): Promise<number> {
  return freePortRun(4, host);
}

/**
 * sipp prints nothing useful at start-up; it is ready once its UDP (or, with -t t1/tn, TCP) port is taken.
 * Asked of the kernel's socket tables, not by binding the port ourselves: a probe that bound it for a moment
 * could hold it just when sipp binds, and sipp then quit with "Address already in use" (seen on a loaded
 * machine).
 */
async function bound(port: number, host: string, tcp: boolean, proc: Managed): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (await portInTable(port, host, tcp)) return;
    if (proc.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const out = proc.output();
  // Its error is at the start of the output, its statistics at the end.
  throw new Error(`sipp did not bind port ${port}\n${out.length > 4000 ? `${out.slice(0, 2000)}\n...\n${out.slice(-2000)}` : out}`);
}
