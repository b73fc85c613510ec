// Free loopback ports for peers started by tests and the demo. A port is
// checked free for both TCP and UDP, since SIP listens on both.
import net from 'node:net';
import dgram from 'node:dgram';

const handedOut = new Set<number>();

function tcpFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

function udpFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, host, () => s.close(() => resolve(true)));
  });
}

// Below Linux's ephemeral range (32768-60999), so the port cannot be taken
// between our check and its use by some process's outgoing connection (the
// kernel picks those from the ephemeral range). Test processes that run side
// by side (scripts/test-parallel.mjs sets HP_TEST_SLOT) each get their own
// slice, so they cannot race each other for one either.
const LOW = 10_000;
const HIGH = 32_000;
const SLOTS = 8;
function range(): [number, number] {
  const slot = Number(process.env.HP_TEST_SLOT);
  if (!Number.isInteger(slot) || slot < 0) return [LOW, HIGH];
  const size = Math.floor((HIGH - LOW) / SLOTS);
  const from = LOW + (slot % SLOTS) * size;
  return [from, from + size];
}

/** A port free on TCP and UDP, never handed out twice in this process. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [from, to] = range();
  for (let i = 0; i < 200; i++) {
    const port = from + Math.floor(Math.random() * (to - from));
    if (handedOut.has(port)) continue;
    if ((await tcpFree(port, host)) && (await udpFree(port, host))) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free port found');
}

/**
 * `count` consecutive ports from an even one, all free on UDP and never handed out in this process, and
 * handed out together (sipp's media: audio RTP on p, video RTP on p+2). Reserving only p let a later
 * freePort() hand out p+2 as another peer's port, or sipp's own control port, and one of the two binds failed.
 */
export async function freePortRun(count: number, host = '127.0.0.1'): Promise<number> {
  const [from, to] = range();
  for (let i = 0; i < 200; i++) {
    const p = from + 2 * Math.floor((Math.random() * (to - from - count)) / 2);
    const ports = Array.from({ length: count }, (_, k) => p + k);
    if (ports.some((x) => handedOut.has(x))) continue;
    let free = true;
    for (const x of ports) if (!(await udpFree(x, host))) free = false;
    if (!free) continue;
    for (const x of ports) handedOut.add(x);
    return p;
  }
  throw new Error(`no ${count} free consecutive ports found`);
}
