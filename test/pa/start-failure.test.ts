// A hub that cannot start (its port is taken) exits with an error: the PA
// engine and its SIP page gateway, already started by the server, stop with
// it instead of keeping the process alive on a closed database.
import { strict as assert } from 'node:assert';
import net from 'node:net';
import { freePort } from '../../src/testbed/ports.js';
import { stopAll } from '../../src/testbed/proc.js';
import { startHubProcess } from './helpers.js';

describe('a hub with the PA gateway that fails to start', function () {
  this.timeout(150_000);
  let busy: net.Server;

  after(async () => {
    busy?.close();
    await stopAll();
  });

  it('exits instead of hanging when its port is taken', async () => {
    const port = await freePort();
    busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(port, '127.0.0.1', resolve));
    const deadSip = await freePort();
    const err = await startHubProcess({
      listen: { host: '127.0.0.1', port },
      log: { level: 'info' },
      pa: {
        gateway: { account: { user: 'page', password: 'x', domain: '127.0.0.1', registrars: [{ uri: `sip:127.0.0.1:${deadSip}`, transport: 'udp' }] }, localHost: '127.0.0.1', localPort: 0 },
        zones: { concourse: { group: '239.255.90.1', port: 16384, emergencyGroup: '239.255.91.1', emergencyPort: 16386 } },
        multicastInterface: '127.0.0.1',
      },
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    assert.ok(err, 'the hub must not start on a taken port');
    assert.match(err.message, /exited \(\d+\) before a line matching/);
  });
});
