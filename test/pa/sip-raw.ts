// A bare SIP user agent over UDP for tests of what the site SIP server lets
// through: INVITEs with headers of the test's choosing (a forged
// P-Asserted-Identity), answering one digest challenge, and a registered
// contact that records the INVITEs it is sent and declines them.
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const status = (m: string) => Number(/^SIP\/2\.0 (\d{3})/.exec(m)?.[1]);

export interface RawUa {
  port: number;
  /** requests sent to this socket (INVITEs are declined with 603) */
  requests: string[];
  /** REGISTERs user@domain at the server; resolves with the final status */
  register(): Promise<number>;
  /** an INVITE to `ruri` with these extra header lines, authenticating once if challenged; the final reply */
  invite(ruri: string, headers?: string[]): Promise<{ code: number; reason: string; reply: string }>;
  close(): void;
}

export async function rawUa(o: { server: number; user: string; password?: string; domain?: string }): Promise<RawUa> {
  const domain = o.domain ?? '127.0.0.1';
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const port = sock.address().port;
  const requests: string[] = [];
  const waiting = new Map<string, (reply: string) => void>();
  sock.on('message', (m) => {
    const text = m.toString();
    if (text.startsWith('SIP/2.0 ')) {
      if (status(text) < 200) return;
      const callId = /^Call-ID:\s*(\S+)/im.exec(text)?.[1] ?? '';
      waiting.get(callId)?.(text);
      return;
    }
    requests.push(text);
    if (!text.startsWith('INVITE ')) return;
    // Decline: the reply copies Via, From, To, Call-ID and CSeq.
    const copy = text.split('\r\n').filter((l) => /^(Via|v|From|f|To|t|Call-ID|i|CSeq):/i.test(l));
    const to = copy.findIndex((l) => /^(To|t):/i.test(l));
    if (to >= 0 && !/;tag=/.test(copy[to]!)) copy[to] += `;tag=${randomBytes(4).toString('hex')}`;
    sock.send([`SIP/2.0 603 Decline`, ...copy, 'Content-Length: 0', '', ''].join('\r\n'), o.server, '127.0.0.1');
  });

  function exchange(callId: string, text: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (waiting.delete(callId), reject(new Error(`no final answer from the SIP server at 127.0.0.1:${o.server}`))), 5000);
      waiting.set(callId, (reply) => {
        clearTimeout(timer);
        waiting.delete(callId);
        resolve(reply);
      });
      sock.send(text, o.server, '127.0.0.1');
    });
  }

  function digest(reply: string, method: string, uri: string): string | undefined {
    const challenge = /^(?:WWW|Proxy)-Authenticate:\s*Digest\s+(.*)$/im.exec(reply)?.[1];
    if (!challenge || o.password === undefined) return undefined;
    const param = (k: string) => new RegExp(`${k}="?([^",]+)"?`, 'i').exec(challenge)?.[1];
    const realm = param('realm') ?? domain;
    const nonce = param('nonce') ?? '';
    const qop = param('qop')?.split(/\s*,\s*/).includes('auth') ? 'auth' : undefined;
    const ha1 = md5(`${o.user}:${realm}:${o.password}`);
    const ha2 = md5(`${method}:${uri}`);
    const cnonce = randomBytes(8).toString('hex');
    const response = qop ? md5(`${ha1}:${nonce}:00000001:${cnonce}:${qop}:${ha2}`) : md5(`${ha1}:${nonce}:${ha2}`);
    return `Digest username="${o.user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5${qop ? `, qop=${qop}, nc=00000001, cnonce="${cnonce}"` : ''}`;
  }

  const ack = (ruri: string, reply: string) => {
    // The ACK of a declined INVITE (hop by hop, RFC 3261 17.1.1.3): the same Via branch and the reply's To.
    const via = /^Via:.*$/im.exec(reply)?.[0] ?? '';
    const lines = reply.split('\r\n').filter((l) => /^(From|To|Call-ID):/i.test(l));
    const cseq = /^CSeq:\s*(\d+)/im.exec(reply)?.[1];
    sock.send([`ACK ${ruri} SIP/2.0`, via, 'Max-Forwards: 70', ...lines, `CSeq: ${cseq} ACK`, 'Content-Length: 0', '', ''].join('\r\n'), o.server, '127.0.0.1');
  };

  return {
    port,
    requests,
    async register() {
      const callId = randomBytes(8).toString('hex');
      const tag = randomBytes(4).toString('hex');
      const uri = `sip:${domain}`;
      const req = (cseq: number, auth?: string) =>
        [
          `REGISTER ${uri} SIP/2.0`,
          `Via: SIP/2.0/UDP 127.0.0.1:${port};rport;branch=z9hG4bK${randomBytes(6).toString('hex')}`,
          'Max-Forwards: 70',
          `From: <sip:${o.user}@${domain}>;tag=${tag}`,
          `To: <sip:${o.user}@${domain}>`,
          `Call-ID: ${callId}`,
          `CSeq: ${cseq} REGISTER`,
          `Contact: <sip:${o.user}@127.0.0.1:${port}>`,
          'Expires: 120',
          ...(auth ? [`Authorization: ${auth}`] : []),
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n');
      let reply = await exchange(callId, req(1));
      const auth = status(reply) === 401 ? digest(reply, 'REGISTER', uri) : undefined;
      if (auth) reply = await exchange(callId, req(2, auth));
      return status(reply);
    },
    async invite(ruri, headers = []) {
      const callId = randomBytes(8).toString('hex');
      const tag = randomBytes(4).toString('hex');
      const sdp = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'a=sendonly', ''].join('\r\n');
      const req = (cseq: number, auth?: string) =>
        [
          `INVITE ${ruri} SIP/2.0`,
          `Via: SIP/2.0/UDP 127.0.0.1:${port};rport;branch=z9hG4bK${randomBytes(6).toString('hex')}`,
          'Max-Forwards: 70',
          `From: <sip:${o.user}@${domain}>;tag=${tag}`,
          `To: <${ruri}>`,
          `Call-ID: ${callId}`,
          `CSeq: ${cseq} INVITE`,
          `Contact: <sip:${o.user}@127.0.0.1:${port}>`,
          ...headers,
          ...(auth ? [`Proxy-Authorization: ${auth}`] : []),
          'Content-Type: application/sdp',
          `Content-Length: ${Buffer.byteLength(sdp)}`,
          '',
          sdp,
        ].join('\r\n');
      let reply = await exchange(callId, req(1));
      if (status(reply) >= 300) ack(ruri, reply);
      const auth = status(reply) === 407 ? digest(reply, 'INVITE', ruri) : undefined;
      if (auth) {
        reply = await exchange(callId, req(2, auth));
        if (status(reply) >= 300) ack(ruri, reply);
      }
      return { code: status(reply), reason: /^SIP\/2\.0 \d{3} ([^\r\n]*)/.exec(reply)?.[1] ?? '', reply };
    },
    close: () => sock.close(),
  };
}
