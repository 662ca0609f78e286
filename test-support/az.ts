import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { state } from './platform';

/**
 * The real Azure CLI (Debian sid `azure-cli`, in the chroot that test-support/az/make-chroot.sh builds) run
 * against the platform: test-support/az/az.sh keeps every request on loopback. scripts/test.sh builds the
 * chroot once (CERULEAN_AZ_ROOT, default /tmp/sidroot) and reuses it afterwards.
 */
const SCRIPTS = resolve(__dirname, 'az');
export const AZ_ROOT = process.env.CERULEAN_AZ_ROOT ?? '/tmp/sidroot';

export interface AzResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON when it is JSON. */
  json: unknown;
  seconds: number;
}

export function azAvailable(): boolean {
  return existsSync(join(AZ_ROOT, 'usr/bin/az'));
}

/** One az configuration (login state, token cache, registered cloud): one per test file keeps runs independent. */
export class AzCli {
  readonly log: string[] = [];

  constructor(readonly configDir: string) {}

  private exec(script: string, args: string[], env: Record<string, string> = {}, cwd?: string): Promise<AzResult> {
    const started = Date.now();
    return new Promise((res, rej) => {
      const child = spawn('bash', [join(SCRIPTS, script), ...args], {
        cwd: cwd ?? state().dir,
        env: { ...process.env, AZ_ROOT, AZ_CONFIG_DIR: this.configDir, AZ_CA_BUNDLE: state().caPath, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      child.on('error', rej);
      child.on('close', (code) => {
        let json: unknown;
        try {
          json = stdout.trim() ? JSON.parse(stdout) : undefined;
        } catch {
          json = undefined;
        }
        const seconds = (Date.now() - started) / 1000;
        const what = script === 'az.sh' ? `az ${args.join(' ')}` : `${script} (az cloud register + az login --service-principal)`;
        this.log.push(`[${code}] ${seconds.toFixed(1)}s ${what}${code ? `\n${stderr.trim()}` : ''}`);
        res({ code: code ?? -1, stdout, stderr, json, seconds });
      });
    });
  }

  /** `az cloud register` (reading /metadata/endpoints) and `az login --service-principal` with the given principal. */
  setup(principal: { tenantId: string; clientId: string; clientSecret: string }, cloud = 'CeruleanLocal'): Promise<AzResult> {
    return this.exec('az-setup.sh', [], {
      AZ_ENDPOINT: state().apiUrl, AZ_TENANT: principal.tenantId, AZ_CLIENT_ID: principal.clientId, AZ_CLIENT_SECRET: principal.clientSecret, AZ_CLOUD: cloud,
    });
  }

  /** `az <args> -o json`; the working directory is bound into the chroot (relative file arguments work). */
  run(args: string[], options: { cwd?: string } = {}): Promise<AzResult> {
    const out = args.includes('-o') || args.includes('--output') ? [] : ['-o', 'json'];
    return this.exec('az.sh', [...args, ...out], {}, options.cwd);
  }
}
