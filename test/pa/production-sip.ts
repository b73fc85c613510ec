// The production SIP server template on loopback for the PA tests: a
// throw-away TLS certificate, HA1 accounts for the given users, its own
// rtpengine; returns the plain SIP port and the realm (the SIP domain).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runKamailio } from '../../src/testbed/kamailio.js';
import { startRtpengine } from '../../src/testbed/rtpengine.js';
import { freePort } from '../../src/testbed/ports.js';
import { productionKamailioCfg } from '../../src/sipserver/production.js';
import { tmpDir } from '../helpers/tmp.js';

export async function productionSipServer(users: Record<string, string>, prefix: string): Promise<{ sip: number; realm: string }> {
  const pdir = tmpDir(prefix);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(pdir, 'key.pem'), '-out', path.join(pdir, 'cert.pem'), '-days', '2', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
  writeFileSync(path.join(pdir, 'tls.cfg'), `[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\nprivate_key = ${pdir}/key.pem\ncertificate = ${pdir}/cert.pem\n`);
  const realm = '127.0.0.1';
  const ha1 = (u: string, p: string) => createHash('md5').update(`${u}:${realm}:${p}`).digest('hex');
  writeFileSync(path.join(pdir, 'users.cfg'), `event_route[htable:mod-init] {\n${Object.entries(users).map(([u, p]) => `  $sht(users=>${u}) = "${ha1(u, p)}";`).join('\n')}\n}\n`);
  const rtpengine = await startRtpengine();
  const [sip, sips, wss, rpc] = [await freePort(), await freePort(), await freePort(), await freePort()];
  await runKamailio(
    productionKamailioCfg({
      site: { SIP_IP: '127.0.0.1', SIP_DOMAIN: realm, SIP_PORT: String(sip), SIPS_PORT: String(sips), WSS_PORT: String(wss), RTPENGINE_SOCK: rtpengine.sock, RPC_IP: '127.0.0.1', RPC_PORT: String(rpc) },
      tlsConfig: path.join(pdir, 'tls.cfg'),
      usersFile: path.join(pdir, 'users.cfg'),
    }),
    wss,
  );
  return { sip, realm };
}
