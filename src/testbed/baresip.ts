// baresip as a desk: a real softphone with no sound hardware. It plays a WAV
// file as its microphone (aufile), records what it hears (sndfile writes
// dump-*-dec.wav into its folder), can auto-answer, and takes commands over
// ctrl_tcp (netstring JSON) so a test can make it dial, answer or hang up.
import { mkdtempSync, writeFileSync, readdirSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { start, type Managed } from './proc.js';
import { encodeWav } from '../audio/wav.js';
import { freePort } from './ports.js';
import { requireTool } from './tools.js';

export interface BaresipOptions {
  user?: string;
  /** WAV played as the desk's microphone; silence when omitted */
  sourceWav?: string;
  autoAnswer?: boolean;
  /** register to this registrar (sip:host:port) with user/password; else registrarless */
  registrar?: { uri: string; domain: string; password: string; transport?: 'udp' | 'tcp' };
  sipPort?: number;
  /** false: no recording and a player that discards (aubridge with nothing attached), like a kiosk's null sink (benchmarks) */
  record?: boolean;
}

export interface Baresip {
  proc: Managed;
  dir: string;
  sipPort: number;
  ctrlPort: number;
  uri: string;
  /** Sends a ctrl_tcp command, e.g. ('dial', 'sip:x@host') or ('hangup'). */
  command(command: string, params?: string): Promise<{ ok: boolean; data: string }>;
  recordings(): string[];
  stop(): Promise<void>;
}

function netstring(s: string): Buffer {
  const b = Buffer.from(s);
  return Buffer.concat([Buffer.from(`${b.length}:`), b, Buffer.from(',')]);
}

export async function startBaresip(opts: BaresipOptions = {}): Promise<Baresip> {
  const bin = requireTool('baresip', 'baresip-core');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hp-baresip-'));
  const sipPort = opts.sipPort ?? (await freePort());
  const ctrlPort = await freePort();
  const user = opts.user ?? 'desk';
  const source = opts.sourceWav ?? path.join(dir, 'silence.wav');
  if (!opts.sourceWav) writeFileSync(source, silenceWav(8000, 60));
  writeFileSync(
    path.join(dir, 'config'),
    [
      'poll_method epoll',
      `sip_listen 127.0.0.1:${sipPort}`,
      'net_interface 127.0.0.1',
      // RTP in the ephemeral range, like every other peer's media: the test bed hands out SIP ports
      // below it (ports.ts), and baresip's default range (1024-49152) would collide with them
      'rtp_ports 40000-59998',
      `audio_source aufile,${source}`,
      // aufile insists on the codec's rate unless told the file's rate; baresip then resamples
      `ausrc_srate ${readFileSync(source).readUInt32LE(24)}`,
      'ausrc_channels 1',
      opts.record === false ? 'audio_player aubridge,nil' : `audio_player aufile,${path.join(dir, 'unused.wav')}`,
      `audio_alert aufile,${path.join(dir, 'unused.wav')}`,
      'module_path /usr/lib/baresip/modules',
      ...['g711', 'g722', 'aufile', ...(opts.record === false ? ['aubridge'] : ['sndfile']), 'account', 'menu', 'ctrl_tcp'].map((m) => `module ${m}.so`),
      `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
      `snd_path ${dir}`,
      'sip_trans_def udp',
      '',
    ].join('\n'),
  );
  const answer = opts.autoAnswer === false ? 'manual' : 'auto';
  let account: string;
  if (opts.registrar) {
    const r = opts.registrar;
    const t = r.transport ?? 'udp';
    account = `<sip:${user}@${r.domain};transport=${t}>;auth_pass=${r.password};outbound="${r.uri};transport=${t}";regint=60;answermode=${answer}`;
  } else account = `<sip:${user}@127.0.0.1>;regint=0;answermode=${answer}`;
  writeFileSync(path.join(dir, 'accounts'), account + '\n');
  const proc = start('baresip', bin, ['-f', dir], { cwd: dir });
  await proc.waitFor(/baresip is ready/, 10_000);

  const command = (cmd: string, params?: string) =>
    new Promise<{ ok: boolean; data: string }>((resolve, reject) => {
      const sock = net.connect(ctrlPort, '127.0.0.1');
      let buf = '';
      const t = setTimeout(() => (sock.destroy(), reject(new Error(`baresip: no reply to ${cmd}`))), 5000);
      sock.on('data', (d) => {
        buf += d.toString();
        // The stream carries events as well as the reply: read netstring after netstring.
        for (;;) {
          const m = /^(\d+):/.exec(buf);
          if (!m || buf.length < m[0].length + Number(m[1]) + 1) return;
          const body = JSON.parse(buf.slice(m[0].length, m[0].length + Number(m[1]))) as { response?: boolean; ok: boolean; data: string };
          buf = buf.slice(m[0].length + Number(m[1]) + 1);
          if (!body.response) continue;
          clearTimeout(t);
          sock.end();
          resolve({ ok: body.ok, data: body.data });
          return;
        }
      });
      sock.on('error', (e) => (clearTimeout(t), reject(e)));
      sock.write(netstring(JSON.stringify({ command: cmd, params: params ?? '', token: 't' + Date.now() })));
    });

  return {
    proc,
    dir,
    sipPort,
    ctrlPort,
    uri: `sip:${user}@127.0.0.1:${sipPort}`,
    command,
    // oldest first (by when the file was last written: when its call ended)
    recordings: () =>
      readdirSync(dir)
        .filter((f) => f.endsWith('-dec.wav'))
        .map((f) => path.join(dir, f))
        .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs),
    stop: () => proc.stop(),
  };
}

/** A mono 16-bit PCM WAV of silence. */
export function silenceWav(rate: number, seconds: number): Buffer {
  return encodeWav({ rate, samples: new Int16Array(rate * seconds) });
}
