// The `helppoint` command line.
import { parseArgs } from 'node:util';
import { loadKioskConfig, loadHubConfig, validateFile, ConfigFileError } from './config/load.js';
import { hashPassword, sha256Hex } from './hub/passwords.js';

const isCost = (N: number, r: number, p: number) => N >= 1024 && N <= 1 << 20 && (N & (N - 1)) === 0 && r >= 1 && r <= 32 && p >= 1 && p <= 16;

const USAGE = `helppoint: open help-point firmware

  helppoint kiosk --config FILE [--local-port N]   run one help point
  helppoint hub --config FILE [--port N] [--database postgres://...]
                                                   run the control centre (PGlite in dataDir,
                                                   or a PostgreSQL shared by several hubs)
  helppoint demo [--site DIR]                      a whole site on this machine
  helppoint config validate FILE...                check config files
  helppoint hash-password PASSWORD [--cost N=131072,r=8,p=1]
                                                   hash for a console user (default cost N=8192,r=8,p=1)
  helppoint hash-token TOKEN                       hash for a kiosk token
  helppoint spki-pin CERT.pem                      public-key pin of a hub certificate (kiosk hub.pins)
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'kiosk':
      return runKiosk(rest);
    case 'hub':
      return runHub(rest);
    case 'demo': {
      const { values } = parseArgs({ args: rest, options: { site: { type: 'string' } } });
      const { runDemo } = await import('./demo/demo.js');
      return runDemo({ siteDir: values.site });
    }
    case 'config':
      if (rest[0] === 'validate' && rest.length > 1) return validate(rest.slice(1));
      break;
    case 'hash-password': {
      const { values, positionals } = parseArgs({ args: rest, options: { cost: { type: 'string' } }, allowPositionals: true });
      const m = values.cost === undefined ? undefined : /^N=(\d+),r=(\d+),p=(\d+)$/.exec(values.cost);
      if (values.cost !== undefined && (!m || !isCost(Number(m[1]), Number(m[2]), Number(m[3])))) {
        console.error('--cost takes N=<power of two, 2^10..2^20>,r=<1..32>,p=<1..16>');
        return 2;
      }
      if (positionals[0]) return console.log(await hashPassword(positionals[0], m ? { N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) } : undefined)), 0;
      break;
    }
    case 'hash-token':
      if (rest[0]) return console.log(sha256Hex(rest[0])), 0;
      break;
    case 'spki-pin':
      if (rest[0]) {
        const { X509Certificate } = await import('node:crypto');
        const { readFileSync } = await import('node:fs');
        const { spkiPin } = await import('./hublink/pinning.js');
        return console.log(spkiPin(new X509Certificate(readFileSync(rest[0])))), 0;
      }
      break;
    case undefined:
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return cmd ? 0 : 2;
  }
  process.stderr.write(USAGE);
  return 2;
}

function validate(files: string[]): number {
  let bad = 0;
  for (const file of files) {
    const { kind, errors } = validateFile(file);
    if (errors.length === 0) {
      console.log(`ok     ${file} (${kind})`);
      continue;
    }
    bad++;
    console.log(`error  ${file}${kind ? ` (${kind})` : ''}`);
    for (const e of errors) console.log(`  ${e.path || '/'}: ${e.message}`);
  }
  return bad ? 1 : 0;
}

function fail(err: unknown): number {
  if (err instanceof ConfigFileError) process.stderr.write(err.message + '\nnot starting: fix the configuration first\n');
  else process.stderr.write(`${(err as Error).stack ?? err}\n`);
  return 1;
}

function onSignals(stop: () => Promise<void>): void {
  let stopping = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (stopping) process.exit(1);
      stopping = true;
      stop().finally(() => process.exit(0));
    });
  }
}

/** Tells systemd about start-up, shutdown and a healthy event loop (no-op outside systemd). */
async function systemd(log: import('./core/log.js').Logger) {
  const { startNotify } = await import('./core/notify.js');
  return startNotify({ log });
}

async function runKiosk(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' }, 'local-port': { type: 'string' } } });
  if (!values.config) return fail(new Error('--config FILE is required'));
  try {
    const { config, dir } = loadKioskConfig(values.config);
    const { Kiosk } = await import('./kiosk/app.js');
    const { installProcessGuard } = await import('./core/process-guard.js');
    const { RESTART_EXIT_CODE } = await import('./core/exit-codes.js');
    let notify: Awaited<ReturnType<typeof systemd>> | undefined;
    const kiosk = new Kiosk({
      config,
      configDir: dir,
      localPort: values['local-port'] ? Number(values['local-port']) : undefined,
      onArmed: () => notify?.ready('buttons armed'),
      // A config change that cannot apply live: stop cleanly, the supervisor starts us again on it.
      onRestart: async () => {
        notify?.stopping();
        await kiosk.stop();
        await new Promise<void>((resolve) => kiosk.log.flush(() => resolve()));
        process.exit(RESTART_EXIT_CODE);
      },
    });
    notify = await systemd(kiosk.log);
    // Anything thrown that nobody caught: recorded, logged, exit non-zero; systemd restarts the kiosk.
    const guard = installProcessGuard({ log: kiosk.log, record: (type, data) => kiosk.store.recordSync(type, data) });
    guard.onFatal(() => kiosk.driver?.write('doorRelay', false)); // never leave a door released
    guard.onFatal(() => kiosk.ctx.services.setup?.drain()); // an alarm call's deferred log lines and journal batch
    onSignals(async () => {
      notify?.stopping();
      await kiosk.stop();
    });
    // This process is the kiosk's own: V8's background threads yield to its main thread (src/core/thread-priority.ts),
    // set before the kiosk starts: finding libuv's pool holds all its threads for a moment, never during a press.
    const { lowerBackgroundThreadsSoon } = await import('./core/thread-priority.js');
    await lowerBackgroundThreadsSoon(config.scheduling?.backgroundNiceSteps ?? 10, kiosk.log).first;
    await kiosk.start();
    return -1; // keep running
  } catch (err) {
    return fail(err);
  }
}

async function runHub(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' }, port: { type: 'string' }, database: { type: 'string' } } });
  if (!values.config) return fail(new Error('--config FILE is required'));
  if (values.database && !/^postgres(ql)?:\/\//.test(values.database)) return fail(new Error('--database takes a postgres:// URL'));
  try {
    const { config, dir } = loadHubConfig(values.config);
    const { Hub } = await import('./hub/app.js');
    const { installProcessGuard } = await import('./core/process-guard.js');
    const hub = new Hub({ config, configDir: dir, port: values.port ? Number(values.port) : undefined, databaseUrl: values.database });
    const notify = await systemd(hub.log);
    // An uncaught error is logged and recorded, then the process exits non-zero (systemd restarts it).
    installProcessGuard({
      log: hub.log,
      finish: async (data) => {
        await hub.ctx?.storage.audit({ user: '-', role: 'system', action: 'process.crash', target: hub.instanceId, result: data.kind, detail: { error: (data.stack ?? data.message).slice(0, 4000) } });
      },
    });
    onSignals(async () => {
      notify.stopping();
      await hub.stop();
    });
    await hub.start();
    notify.ready('serving');
    return -1;
  } catch (err) {
    return fail(err);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err) => {
    process.exitCode = fail(err);
  },
);
