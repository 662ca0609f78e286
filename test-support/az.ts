import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
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
      AZ_ENDPOINT: state().apiUrl,
      AZ_TENANT: principal.tenantId,
      AZ_CLIENT_ID: principal.clientId,
      AZ_CLIENT_SECRET: principal.clientSecret,
      AZ_CLOUD: cloud,
    });
  }

  /**
   * `az <args> -o json`; the working directory is bound into the chroot (relative file arguments work). With
   * `asTyped`, the arguments go as they are (some commands print differently when no output format was typed).
   */
  run(args: string[], options: { cwd?: string; asTyped?: boolean } = {}): Promise<AzResult> {
    const out = options.asTyped || args.includes('-o') || args.includes('--output') ? [] : ['-o', 'json'];
    return this.exec('az.sh', [...args, ...out], {}, options.cwd);
  }
}

/** `r` when az exited 0; otherwise throws with what az printed. */
export function azOk(r: AzResult): AzResult {
  if (r.code !== 0) throw new Error(`az exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

export interface AzSuite {
  /** The suite's az (set in beforeAll). */
  readonly az: AzCli;
  /** A directory bound into the chroot, where az runs (relative file arguments resolve there). */
  readonly workDir: string;
  /** `az <args> -o json` in workDir. */
  run(...args: string[]): Promise<AzResult>;
}

/**
 * The az set-up every az suite shares, as jest hooks: checks the chroot, makes the working directory and a fresh az
 * config (no token or discovery cache from an earlier platform), and afterwards prints the commands run and removes
 * the config. With `login`, also `az cloud register` + `az login --service-principal` as the bootstrap principal
 * (a suite that tests those steps itself leaves it off).
 */
export function useAzSuite(tag: string, options: { login?: boolean } = {}): AzSuite {
  let az: AzCli | undefined;
  let workDir = '';
  const suite: AzSuite = {
    get az(): AzCli {
      if (!az) throw new Error('useAzSuite: az is set in beforeAll');
      return az;
    },
    get workDir(): string {
      return workDir;
    },
    run: (...args: string[]) => suite.az.run(args, { cwd: workDir }),
  };
  beforeAll(async () => {
    if (!azAvailable()) throw new Error(`the az chroot is missing at ${AZ_ROOT}: scripts/test.sh builds it (bash test-support/az/make-chroot.sh)`);
    workDir = join(state().dir, `az-work-${tag}`);
    mkdirSync(workDir, { recursive: true });
    az = new AzCli(`/root/.azure-cerulean-${tag}-${process.pid}`);
    rmSync(join(AZ_ROOT, az.configDir), { recursive: true, force: true });
    if (options.login) azOk(await az.setup(state().bootstrap));
  });
  afterAll(() => {
    if (!az) return;
    console.log(`az commands run:\n${az.log.join('\n')}`);
    rmSync(join(AZ_ROOT, az.configDir), { recursive: true, force: true });
  });
  return suite;
}
