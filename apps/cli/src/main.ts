#!/usr/bin/env node
import { PRINCIPAL_USAGE, runPrincipalCommand } from './principals';

const USAGE = `usage: cerulean <command> ...

commands:
  principal   manage service principals (create, list, show, delete, rotate-secret)
`;

/** The `cerulean` command line: dispatches to each command's module. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'principal':
    case 'principals':
      if (rest[0] === '--help' || rest[0] === '-h') {
        process.stdout.write(PRINCIPAL_USAGE);
        return 0;
      }
      return runPrincipalCommand(rest);
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`cerulean: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
