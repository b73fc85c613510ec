// A stand-in for systemd's notification socket: a unix datagram socket
// (Node has none, so a tiny python3 receiver) that hands every message it
// receives to the test with the time it arrived.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { tmpDir } from './tmp.js';

const RECEIVER = `
import socket, sys, time, json
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps({"t": time.time() * 1000, "m": "LISTENING"}), flush=True)
while True:
    d = s.recv(65536)
    print(json.dumps({"t": time.time() * 1000, "m": d.decode("utf-8", "replace")}), flush=True)
`;

export interface NotifySocket {
  path: string;
  /** every datagram, in arrival order (wall-clock ms) */
  messages: { at: number; text: string }[];
  /** messages with this field (READY=1, WATCHDOG=1), arrival times */
  times(field: string): number[];
  stop(): void;
}

export async function notifySocket(): Promise<NotifySocket> {
  const file = path.join(tmpDir('hp-notify-'), 'notify.sock');
  const child: ChildProcess = spawn('python3', ['-c', RECEIVER, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages: { at: number; text: string }[] = [];
  let buf = '';
  await new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const { t, m } = JSON.parse(buf.slice(0, nl)) as { t: number; m: string };
        buf = buf.slice(nl + 1);
        if (m === 'LISTENING') resolve();
        else messages.push({ at: t, text: m });
      }
    });
  });
  return {
    path: file,
    messages,
    times: (field) => messages.filter((m) => m.text.split('\n').includes(field)).map((m) => m.at),
    stop: () => void child.kill(),
  };
}
