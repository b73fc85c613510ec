// A client for rtpengine's "ng" control protocol: bencoded dictionaries over
// UDP, each request prefixed by a cookie that its reply repeats. The test
// bed uses it to wait for readiness (ping) and to read rtpengine's view of a
// call (query, list); Kamailio speaks the same protocol in production.
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import bencode from 'bencode';

export type NgReply = Record<string, unknown> & { result: string; 'error-reason'?: string };

export interface NgClient {
  request(command: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<NgReply>;
  ping(timeoutMs?: number): Promise<boolean>;
  close(): void;
}

export function ngClient(host: string, port: number): NgClient {
  const sock = dgram.createSocket('udp4');
  const waiting = new Map<string, (r: NgReply) => void>();
  sock.on('message', (msg) => {
    const space = msg.indexOf(0x20);
    if (space < 0) return;
    const cookie = msg.subarray(0, space).toString();
    const done = waiting.get(cookie);
    if (!done) return;
    try {
      done(text(bencode.decode(new Uint8Array(msg.subarray(space + 1)))) as NgReply);
    } catch (err) {
      done({ result: 'error', 'error-reason': `undecodable reply: ${(err as Error).message}` });
    }
  });
  sock.on('error', () => {});
  const bound = new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  let closed = false;

  async function request(command: string, args: Record<string, unknown> = {}, timeoutMs = 2000): Promise<NgReply> {
    await bound;
    const cookie = randomBytes(6).toString('hex');
    const packet = Buffer.concat([Buffer.from(cookie + ' '), Buffer.from(bencode.encode({ ...args, command }))]);
    return new Promise((resolve, reject) => {
      // UDP: send again every 250 ms until the reply or the deadline.
      const send = () => !closed && sock.send(packet, port, host);
      const again = setInterval(send, 250);
      const timer = setTimeout(() => finish(new Error(`rtpengine ${host}:${port}: no reply to "${command}" within ${timeoutMs} ms`)), timeoutMs);
      const finish = (err?: Error, reply?: NgReply) => {
        clearInterval(again);
        clearTimeout(timer);
        waiting.delete(cookie);
        if (err) reject(err);
        else resolve(reply!);
      };
      waiting.set(cookie, (r) => finish(undefined, r));
      send();
    });
  }

  return {
    request,
    async ping(timeoutMs = 500) {
      try {
        return (await request('ping', {}, timeoutMs)).result === 'pong';
      } catch {
        return false;
      }
    },
    close() {
      closed = true;
      try {
        sock.close();
      } catch {
        /* already closed */
      }
    },
  };
}

/** Byte strings -> text, through lists and dictionaries (bencode 4's own decoding to text throws on Node 20). */
function text(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  if (Array.isArray(v)) return v.map(text);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, text(x)]));
  return v;
}
