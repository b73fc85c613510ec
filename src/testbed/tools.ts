// Where the test bed's system tools are, with a clear error when one is
// missing (scripts/install-system.sh installs them).
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export function which(cmd: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export function requireTool(cmd: string, pkg: string): string {
  const p = which(cmd) ?? ['/usr/sbin/' + cmd, '/usr/bin/' + cmd].find((x) => existsSync(x));
  if (!p) throw new Error(`${cmd} is not installed (Debian package ${pkg}); run: bash scripts/install-system.sh`);
  return p;
}
