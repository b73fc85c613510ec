// A one-shot SIP REGISTER over UDP with digest authentication, for tests of
// what a SIP server accepts: the final status after answering one challenge
// (200 when the password works, 401 or 403 when it does not).
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** REGISTERs `user@domain` at 127.0.0.1:`port` with `password`; resolves with the final status code. */
export async function sipRegister(o: { port: number; user: string; password: string; domain?: string; expires?: number }): Promise<number> {
  const domain = o.domain ?? '127.0.0.1';
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const local = sock.address().port;
  const callId = randomBytes(8).toString('hex');
  const tag = randomBytes(4).toString('hex');
  const uri = `sip:${domain}`;
  let cseq = 1;
  const request = (auth?: string) =>
    [
      `REGISTER ${uri} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${local};rport;branch=z9hG4bK${randomBytes(6).toString('hex')}`,
      'Max-Forwards: 70',
      `From: <sip:${o.user}@${domain}>;tag=${tag}`,
      `To: <sip:${o.user}@${domain}>`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq++} REGISTER`,
      `Contact: <sip:${o.user}@127.0.0.1:${local}>`,
      `Expires: ${o.expires ?? 60}`,
      ...(auth ? [`Authorization: ${auth}`] : []),
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  const exchange = (text: string) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no final answer to REGISTER from 127.0.0.1:${o.port}`)), 5000);
      const onMessage = (m: Buffer) => {
        const reply = m.toString();
        if (/^SIP\/2\.0 1\d\d/.test(reply)) return;
        clearTimeout(timer);
        sock.off('message', onMessage);
        resolve(reply);
      };
      sock.on('message', onMessage);
      sock.send(text, o.port, '127.0.0.1');
    });
  try {
    let reply = await exchange(request());
    const status = () => Number(/^SIP\/2\.0 (\d{3})/.exec(reply)?.[1]);
    if (status() !== 401) return status();
    const challenge = /^WWW-Authenticate:\s*Digest\s+(.*)$/im.exec(reply)?.[1] ?? '';
    const param = (k: string) => new RegExp(`${k}="?([^",]+)"?`, 'i').exec(challenge)?.[1];
    const realm = param('realm') ?? domain;
    const nonce = param('nonce') ?? '';
    const qop = param('qop')?.split(/\s*,\s*/).includes('auth') ? 'auth' : undefined;
    const ha1 = md5(`${o.user}:${realm}:${o.password}`);
    const ha2 = md5(`REGISTER:${uri}`);
    const cnonce = randomBytes(8).toString('hex');
    const response = qop ? md5(`${ha1}:${nonce}:00000001:${cnonce}:${qop}:${ha2}`) : md5(`${ha1}:${nonce}:${ha2}`);
    const auth = `Digest username="${o.user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5${qop ? `, qop=${qop}, nc=00000001, cnonce="${cnonce}"` : ''}`;
    reply = await exchange(request(auth));
    return status();
  } finally {
    sock.close();
  }
}
