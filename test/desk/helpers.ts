// Shared set-up for the desk media tests and the desk benchmark: rtpengine +
// Kamailio bridging WebRTC, the desk phone bundle on a tiny static page, and
// headless Chromium whose fake microphone plays a WAV file.
import http from 'node:http';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startRtpengine, type RtpEngine } from '../../src/testbed/rtpengine.js';
import { startKamailio, type Kamailio } from '../../src/testbed/kamailio.js';
import { buildWebBundles, WEB_DIST } from '../../src/hub/web-bundle.js';
import { REPO } from '../helpers/processes.js';

export interface MediaBed {
  rtpengine: RtpEngine;
  kamailio: Kamailio;
  wsUrl: string;
  stop(): Promise<void>;
}

/** rtpengine first (it must answer a ping before Kamailio starts), then Kamailio with the WebRTC routing. */
export async function startMediaBed(users: Record<string, string>, more: { groups?: Record<string, string[]>; rpcToken?: string } = {}): Promise<MediaBed> {
  const rtpengine = await startRtpengine();
  const kamailio = await startKamailio({ users, rtpengine, ...more });
  return {
    rtpengine,
    kamailio,
    wsUrl: `ws://127.0.0.1:${kamailio.wsPort}/`,
    stop: async () => {
      await kamailio.stop();
      await rtpengine.stop();
    },
  };
}

/**
 * The contacts the registrar holds for a SIP user now (Kamailio's ul.lookup over its JSON-RPC; the bed must have
 * been started with an rpcToken). An empty list once the AOR is gone.
 */
export async function registeredContacts(bed: MediaBed, rpcToken: string, user: string): Promise<string[]> {
  const r = await fetch(`http://127.0.0.1:${bed.kamailio.wsPort}/RPC`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-helppoint-rpc': rpcToken },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'ul.lookup', params: ['location', `${user}@${bed.kamailio.domain}`], id: 1 }),
  });
  // Kamailio 5.x answers {"AoR": "desk", "Contacts": [...]} (the AoR a name, its contacts beside it); older ones nest them.
  type Contacts = { Contact?: { Address?: string } }[];
  const body = (await r.json()) as { result?: { AoR?: string | { Contacts?: Contacts }; Contacts?: Contacts }; error?: { message?: string } };
  if (body.error) {
    if (/not found|no contacts/i.test(body.error.message ?? '')) return []; // gone, or the AOR record left empty
    throw new Error(`ul.lookup ${user}: ${body.error.message}`);
  }
  const aor = body.result?.AoR;
  return (body.result?.Contacts ?? (typeof aor === 'object' ? aor.Contacts : undefined) ?? []).map((c) => c.Contact?.Address ?? '?');
}

const PAGE_DIR = path.join(REPO, 'test/desk/page');
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.map': 'application/json' };

/** Serves the test page and the freshly built bundle on 127.0.0.1 (a secure origin for getUserMedia). */
export async function serveDeskPage(): Promise<{ url: string; close(): Promise<void> }> {
  await buildWebBundles();
  const server = http.createServer((req, res) => {
    const name = new URL(req.url ?? '/', 'http://x').pathname;
    const file = name === '/' ? path.join(PAGE_DIR, 'index.html') : /^\/phone\.js(\.map)?$/.test(name) ? path.join(WEB_DIST, 'desk', name.slice(1)) : undefined;
    if (!file) return void res.writeHead(404).end();
    readFile(file).then(
      (data) => res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(data),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((r) => server.close(() => r())) };
}

/**
 * Headless Chromium whose fake microphone plays `micWav` (looped). Permissions are granted per context.
 *
 * Its audio output is Chromium's fake one (--disable-audio-output), clocked in real time. Without it
 * Chromium plays into ALSA's default device, which the test runner points at a file capture on the null
 * device (scripts/test.sh): that device takes samples as fast as they come, so the page's WebRTC playout
 * pulled 30 to 100 times faster than real time (getStats: totalSamplesDuration ~75 s per second, most of
 * it concealment) and the received audio measured in the page came out 10 to 30 dB low, at a random
 * level from one window to the next, down to silence (docs/desk-media.md).
 */
export function launchDeskBrowser(micWav: string): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${micWav}`,
      '--autoplay-policy=no-user-gesture-required',
      '--disable-audio-output',
    ],
  });
}

export interface DeskOptions {
  wsUrl: string;
  user: string;
  password: string;
  domain?: string;
  /** grant the microphone permission (default true) */
  microphone?: boolean;
  /** accept the SIP server's self-signed certificate (WSS tests) */
  ignoreHTTPSErrors?: boolean;
}

export interface Desk {
  context: BrowserContext;
  page: Page;
  /** events the phone emitted so far, in order */
  events(): Promise<{ type: string; data: any }[]>;
  waitEvent(type: string, timeoutMs?: number, nth?: number): Promise<any>;
  close(): Promise<void>;
}

/** A page with a started (registered) DeskPhone as window.phone; its events collect in window.phoneEvents. */
export async function openDesk(browser: Browser, pageUrl: string, o: DeskOptions): Promise<Desk> {
  const context = await browser.newContext({ permissions: o.microphone === false ? [] : ['microphone'], ignoreHTTPSErrors: o.ignoreHTTPSErrors });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('desk page error:', e.message));
  await page.goto(pageUrl);
  await page.waitForFunction(() => document.title === 'desk phone ready');
  await page.evaluate(
    async (cfg) => {
      const w = window as any;
      w.phoneEvents = [];
      const phone = new w.desk.DeskPhone({ ...cfg, audioProcessing: false });
      for (const type of ['registered', 'incoming', 'established', 'ended', 'updated', 'error']) phone.on(type, (data: unknown) => w.phoneEvents.push({ type, data }));
      w.phone = phone;
      await phone.start();
    },
    { wsUrl: o.wsUrl, user: o.user, password: o.password, domain: o.domain ?? '127.0.0.1' },
  );
  const events = () => page.evaluate(() => (window as any).phoneEvents as { type: string; data: any }[]);
  return {
    context,
    page,
    events,
    waitEvent: async (type, timeoutMs = 15_000, nth = 1) => {
      const handle = await page.waitForFunction(
        ([t, n]) => {
          const hits = ((window as any).phoneEvents as { type: string; data: unknown }[]).filter((e) => e.type === t);
          return hits.length >= (n as number) ? hits[(n as number) - 1]!.data : undefined;
        },
        [type, nth] as const,
        { timeout: timeoutMs, polling: 20 },
      );
      return handle.jsonValue();
    },
    close: async () => {
      await page.evaluate(() => (window as any).phone?.stop()).catch(() => {});
      await context.close();
    },
  };
}

export interface Leg {
  tag: string;
  protocol: string;
  codec?: string;
  /** RTP packets rtpengine received from this side */
  packets: number;
  flags: string[];
  crypto?: string;
}

/** rtpengine's view of a call (ng "query"): one entry per side, with what it received from that side. */
export async function rtpengineLegs(bed: MediaBed, sipCallId: string): Promise<Leg[]> {
  const r = (await bed.rtpengine.ng.request('query', { 'call-id': sipCallId })) as any;
  if (r.result !== 'ok') throw new Error(`rtpengine query ${sipCallId}: ${r.result} ${r['error-reason'] ?? ''}`);
  return Object.values(r.tags as Record<string, any>).map((t) => {
    const media = t.medias?.[0] ?? {};
    const rtp = (media.streams ?? []).filter((s: any) => (s.flags ?? []).includes('RTP'));
    return {
      tag: t.tag,
      protocol: media.protocol,
      codec: media.codec,
      packets: rtp.reduce((n: number, s: any) => n + Number(s.stats?.packets ?? 0), 0),
      flags: rtp.flatMap((s: any) => s.flags ?? []),
      crypto: rtp.find((s: any) => s['crypto suite'])?.['crypto suite'],
    };
  });
}
