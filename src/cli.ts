// The `helppoint` command line.
import { parseArgs } from 'node:util';
import { loadKioskConfig, loadHubConfig, validateFile, ConfigFileError } from './config/load.js';
import { hashPassword, sha256Hex } from './hub/passwords.js';

const USAGE = `helppoint: open help-point firmware

  helppoint kiosk --config FILE [--local-port N]   run one help point
  helppoint hub --config FILE [--port N]           run the control centre
  helppoint demo [--site DIR]                      a whole site on this machine
  helppoint config validate FILE...                check config files
  helppoint hash-password PASSWORD                 hash for a console user
  helppoint hash-token TOKEN                       hash for a kiosk token
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
    case 'hash-password':
      if (rest[0]) return console.log(hashPassword(rest[0])), 0;
      break;
    case 'hash-token':
      if (rest[0]) return console.log(sha256Hex(rest[0])), 0;
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

async function runKiosk(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' }, 'local-port': { type: 'string' } } });
  if (!values.config) return fail(new Error('--config FILE is required'));
  try {
    const { config, dir } = loadKioskConfig(values.config);
    const { Kiosk } = await import('./kiosk/app.js');
    const { RESTART_EXIT_CODE } = await import('./core/exit-codes.js');
    const kiosk = new Kiosk({
      config,
      configDir: dir,
      localPort: values['local-port'] ? Number(values['local-port']) : undefined,
      // A config change that cannot apply live: stop cleanly, the supervisor starts us again on it.
      onRestart: async () => {
        await kiosk.stop();
        await new Promise<void>((resolve) => kiosk.log.flush(() => resolve()));
        process.exit(RESTART_EXIT_CODE);
      },
    });
    onSignals(() => kiosk.stop());
    // A stray rejection deep in a library must not take the help point down; it is logged.
    process.on('unhandledRejection', (err) => kiosk.log.error({ err }, 'unhandled rejection'));
    await kiosk.start();
    return -1; // keep running
  } catch (err) {
    return fail(err);
  }
}

async function runHub(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' }, port: { type: 'string' } } });
  if (!values.config) return fail(new Error('--config FILE is required'));
  try {
    const { config, dir } = loadHubConfig(values.config);
    const { Hub } = await import('./hub/app.js');
    const hub = new Hub({ config, configDir: dir, port: values.port ? Number(values.port) : undefined });
    onSignals(() => hub.stop());
    await hub.start();
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
