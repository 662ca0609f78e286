#!/usr/bin/env node
import { CliError, describeError } from './connection';
import { DEPLOYMENT_USAGE, runDeploymentCommand } from './deployment-commands';
import { PRINCIPAL_USAGE, runPrincipalCommand } from './principals';

const USAGE = `cerulean: the Cerulean command-line tool

${DEPLOYMENT_USAGE}

Service principals: cerulean principal create|list|show|delete|rotate-secret (cerulean principal --help).`;

/** Runs one command; the exit code is the result (0 success, 1 failure, 2 usage). */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const out = { log: (line: string) => process.stdout.write(`${line}\n`), isTTY: Boolean(process.stdout.isTTY) };
  try {
    switch (command) {
      case 'deploy':
      case 'what-if':
      case 'validate':
        return await runDeploymentCommand(command, rest, out);
      case 'principal':
      case 'principals':
        if (rest[0] === '--help' || rest[0] === '-h') {
          out.log(PRINCIPAL_USAGE);
          return 0;
        }
        return await runPrincipalCommand(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out.log(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new CliError(`Unknown command '${command}'.\n\n${USAGE}`, 2);
    }
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`ERROR: ${err.message}\n`);
      for (const d of err.detail?.details ?? []) for (const line of describeError(d, '  ')) process.stderr.write(`${line}\n`);
      return err.exitCode;
    }
    // parseArgs reports unknown or malformed flags with a TypeError carrying a code.
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`ERROR: ${(err as Error).message}\n\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`ERROR: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
