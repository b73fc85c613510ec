// rtpengine (Debian package rtpengine-daemon) as the media relay between
// browsers (WebRTC: ICE, DTLS-SRTP, rtcp-mux) and kiosks (plain RTP). It runs
// in userspace (--table=-1: no kernel module), on loopback, with its ng
// control port and RTP port range of its own. Per the field notes it must
// answer an ng ping before Kamailio starts, or Kamailio disables it for 60 s.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { start, type Managed } from './proc.js';
import { freePort } from './ports.js';
import { requireTool } from './tools.js';
import { ngClient, type NgClient } from './rtpengine-ng.js';

export interface RtpEngine {
  proc: Managed;
  dir: string;
  host: string;
  ngPort: number;
  portMin: number;
  portMax: number;
  /** the Kamailio rtpengine module's socket string */
  sock: string;
  ng: NgClient;
  stop(): Promise<void>;
}

export interface RtpEngineOptions {
  host?: string;
  ngPort?: number;
  /** size of the RTP port range (4 ports per bridged call) */
  ports?: number;
  logLevel?: number;
}

export async function startRtpengine(opts: RtpEngineOptions = {}): Promise<RtpEngine> {
  const bin = requireTool('rtpengine', 'rtpengine-daemon');
  const host = opts.host ?? '127.0.0.1';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hp-rtpengine-'));
  const ngPort = opts.ngPort ?? (await freePort(host));
  // The RTP range sits above the 20000-49999 window freePort() draws from, so
  // the peers a test starts later do not race rtpengine for ports. rtpengine
  // skips a port that is taken, so another run's overlapping range is harmless.
  const size = opts.ports ?? 100;
  const portMin = 50000 + 2 * Math.floor(Math.random() * ((10000 - size) / 2));
  const portMax = portMin + size - 1;
  const args = [
    '--config-file=none', // not the packaged /etc/rtpengine/rtpengine.conf (kernel table 0, fixed ports)
    '--table=-1',
    `--interface=${host}`,
    `--listen-ng=${host}:${ngPort}`,
    `--port-min=${portMin}`,
    `--port-max=${portMax}`,
    '--foreground',
    '--log-stderr',
    `--log-level=${opts.logLevel ?? 6}`,
    '--num-threads=2',
    '--delete-delay=0',
    `--pidfile=${path.join(dir, 'rtpengine.pid')}`,
  ];
  const proc = start('rtpengine', bin, args, { cwd: dir });
  const ng = ngClient(host, ngPort);
  const deadline = Date.now() + 10_000;
  let exited = false;
  void proc.exited.then(() => (exited = true));
  while (!(await ng.ping(300))) {
    if (exited || Date.now() > deadline) {
      ng.close();
      await proc.stop();
      throw new Error(`rtpengine did not answer an ng ping on ${host}:${ngPort}${exited ? ' (it exited)' : ''}\n${proc.output().slice(-3000)}`);
    }
  }
  return {
    proc,
    dir,
    host,
    ngPort,
    portMin,
    portMax,
    sock: `udp:${host}:${ngPort}`,
    ng,
    stop: async () => {
      ng.close();
      await proc.stop();
    },
  };
}
