// Desks behind a lossy UDP relay (src/testbed/udp-relay.ts), for the
// reliability tests.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startSipp, type Sipp } from '../../src/testbed/sipp.js';
import { freePort } from '../../src/testbed/ports.js';
import { UdpRelay } from '../../src/testbed/udp-relay.js';
import { scenario } from './helpers.js';

/** A sipp desk behind a relay; the kiosk calls the relay. */
export async function relayedDesk(name: string, opts: { dropRate?: number; seed?: number; calls?: number; extra?: string[] } = {}): Promise<{ desk: Sipp; relay: UdpRelay; uri: string }> {
  const port = await freePort();
  const relay = await new UdpRelay({ peer: { host: '127.0.0.1', port }, dropRate: opts.dropRate, seed: opts.seed }).start();
  const desk = await startSipp({
    scenario: scenario(name),
    port,
    args: ['-m', String(opts.calls ?? 1), '-rtp_echo', '-set', 'relay_port', String(relay.kioskSidePort), ...(opts.extra ?? [])],
  });
  return { desk, relay, uri: `sip:desk@127.0.0.1:${relay.kioskSidePort}` };
}

export function sippLog(s: Sipp): string {
  return (
    s.proc.output().slice(-1500) +
    readdirSync(s.dir)
      .filter((f) => f.endsWith('_errors.log') || f.endsWith('_messages.log'))
      .map((f) => readFileSync(path.join(s.dir, f), 'utf8').slice(-3000))
      .join('\n')
  );
}

