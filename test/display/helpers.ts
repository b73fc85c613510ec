// Shared set-up for screen tests: a kiosk (in-process, so tests can emit bus
// events the hub link and SIP engine will emit once merged) and headless Chromium.
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Kiosk } from '../../src/kiosk/app.js';
import { loadKioskConfig } from '../../src/config/load.js';
import { kioskConfigFile, REPO } from '../helpers/processes.js';

export const ARTIFACTS = path.join(REPO, 'test/artifacts/display');

/** Example-site kiosk config, with log level silent unless overridden. */
export function screenConfig(overrides: Record<string, unknown> = {}, base = 'conc-north') {
  return kioskConfigFile({ log: { level: 'silent' }, ...overrides }, base);
}

export async function startKiosk(overrides: Record<string, unknown> = {}): Promise<{ kiosk: Kiosk; url: string }> {
  const { file } = screenConfig(overrides);
  const loaded = loadKioskConfig(file);
  const kiosk = new Kiosk({ config: loaded.config, configDir: loaded.dir, localPort: 0 });
  await kiosk.start();
  return { kiosk, url: `http://127.0.0.1:${kiosk.localPort}/` };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** A kiosk-sized page (1280x800 landscape) showing the screen, connected. */
export async function openScreen(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(url);
  await page.waitForFunction("document.getElementById('site').textContent !== ''");
  return page;
}

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}
