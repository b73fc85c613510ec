// Child process for the SIGKILL test: rewrites the kiosk config as fast as it
// can, each version larger than a disk block so a write is never atomic by luck.
import { KioskStore } from '../../src/store/kiosk-store.js';

// mocha loads this file when a whole folder is run: do nothing unless forked by the test.
if (process.send) await main(process.argv[2]!);

async function main(dir: string): Promise<never> {
  const store = new KioskStore(dir, 'conc-north').open();
  let v = (store.config.data.config as unknown as { configVersion?: number } | null)?.configVersion ?? 0;
  let told = false;
  for (;;) {
    v += 1;
    await store.saveConfig({ id: 'conc-north', configVersion: v, padding: 'x'.repeat(20_000) } as never);
    // From the first complete write on, a config exists that no crash may lose.
    if (!told) process.send?.('written'), (told = true);
  }
}
