// Firefox for the desk tests: Debian's firefox-esr driven by puppeteer-core over
// WebDriver BiDi (playwright drives only its own patched Firefox), with a fake
// microphone (Firefox's own 1 kHz tone) and a PulseAudio server of the test's own
// as its audio output. Without a sound server headless Firefox has no audio
// backend and every AudioContext stays "suspended", so nothing received could be
// measured in the page. The null sink plays in real time, like a sound card.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { start, type Managed } from '../../src/testbed/proc.js';
import { tmpDir, until } from '../helpers/tmp.js';

export interface Pulse {
  proc: Managed;
  /** what a client puts in PULSE_SERVER */
  server: string;
  /** the environment a client of this server runs with */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** A PulseAudio server with one null sink, on a socket in a temp folder; no autospawn, no D-Bus, no user session. */
export async function startPulse(): Promise<Pulse> {
  const dir = tmpDir('hp-pulse-');
  const runtime = path.join(dir, 'run');
  mkdirSync(runtime, { recursive: true, mode: 0o700 });
  const socket = path.join(runtime, 'native');
  const env = { ...process.env, XDG_RUNTIME_DIR: runtime, XDG_CONFIG_HOME: path.join(dir, 'config'), HOME: dir, PULSE_SERVER: `unix:${socket}` };
  // -n: no default.pa (it would look for sound cards); --system=no with root prints a warning and runs anyway.
  const proc = start(
    'pulseaudio',
    'pulseaudio',
    [
      '--daemonize=no',
      '-n',
      '--exit-idle-time=-1',
      '--disallow-exit',
      '--use-pid-file=no',
      '--log-target=stderr',
      '--log-level=warn',
      '--load=module-null-sink sink_name=desk rate=48000',
      `--load=module-native-protocol-unix socket=${socket} auth-anonymous=1`,
    ],
    { env },
  );
  await until(() => existsSync(socket), 15_000, 'PulseAudio socket').catch((e: Error) => {
    throw new Error(`${e.message}: ${proc.output()}`);
  });
  return { proc, server: env.PULSE_SERVER, env, stop: () => proc.stop() };
}

/**
 * Headless firefox-esr with a fake microphone that needs no permission prompt, autoplay allowed, its
 * audio played into `pulse`'s null sink.
 */
export function launchFirefox(pulse: Pulse): Promise<Browser> {
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: '/usr/bin/firefox-esr',
    headless: true,
    env: pulse.env,
    extraPrefsFirefox: {
      'media.navigator.streams.fake': true,
      'media.navigator.permission.disabled': true,
      'media.autoplay.default': 0,
      'media.autoplay.blocking_policy': 0,
      // The test's rtpengine listens on 127.0.0.1 only; Firefox leaves loopback out of ICE unless told
      // (a real desk reaches the site's rtpengine over the network).
      'media.peerconnection.ice.loopback': true,
      'media.peerconnection.ice.obfuscate_host_addresses': false,
    },
  });
}

/** Logs in through the console's own form in a fresh browser context and opens /desk; resolves once its phone is registered. */
export async function openBoardFirefox(browser: Browser, base: string, user = 'dispatcher', password = 'dispatcher-demo'): Promise<Page> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('firefox board page error:', (e as Error).message));
  await page.goto(base + '/');
  await page.type('input[name=user]', user);
  await page.type('input[name=password]', password);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  // The fleet page it lands on fetches its table at once; leaving before that answer makes Firefox
  // reject the fetch (an uncaught "NetworkError" in the page), so wait for the table.
  await page.waitForSelector('#fleet tr', { timeout: 10_000 });
  await page.goto(base + '/desk');
  await page.waitForFunction(() => (window as any).board?.S.phone?.registered === true && (window as any).board.S.streamOpen, { timeout: 20_000, polling: 50 });
  return page;
}
