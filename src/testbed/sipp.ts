// sipp as a scripted SIP peer. Built-in scenarios (-sn uas) or the project's
// own XML scenarios in test/sipp/. Per the field notes: the built-in uas does
// not echo Record-Route and waits 4 s at the end, so stop it only after it
// exits, or give it -m to bound the call count.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { start, type Managed } from './proc.js';
import { freePort } from './ports.js';
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
  const args = [...scenario, '-i', host, '-p', String(port), '-nostdin', '-trace_err', '-trace_msg', ...(opts.args ?? [])];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hp-sipp-')); // sipp writes its traces into its working folder
  const proc = start('sipp', bin, args, { cwd: dir });
  const tcp = /^t[1n]$/.test(opts.args?.[(opts.args?.indexOf('-t') ?? -2) + 1] ?? '');
  await bound(port, host, tcp, proc);
  return { proc, dir, port, uri: `sip:${opts.user ?? 'desk'}@${host}:${port}`, stop: () => proc.stop() };
}

/** sipp prints nothing useful at start-up; it is ready once its UDP (or, with -t t1/tn, TCP) port is taken. */
async function bound(port: number, host: string, tcp: boolean, proc: Managed): Promise<void> {
  const dgram = await import('node:dgram');
  const net = await import('node:net');
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const taken = await new Promise<boolean>((resolve) => {
      if (tcp) {
        const s = net.createServer();
        s.once('error', () => resolve(true));
        return void s.listen(port, host, () => s.close(() => resolve(false)));
      }
      const s = dgram.createSocket('udp4');
      s.once('error', () => resolve(true));
      s.bind(port, host, () => s.close(() => resolve(false)));
    });
    if (taken) return;
    if (proc.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sipp did not bind port ${port}\n${proc.output().slice(-3000)}`);
}
