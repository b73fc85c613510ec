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

/** A port free on TCP and UDP, never handed out twice in this process. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    if (handedOut.has(port)) continue;
    if ((await tcpFree(port, host)) && (await udpFree(port, host))) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free port found');
}
