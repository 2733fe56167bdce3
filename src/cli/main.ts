#!/usr/bin/env node
// `assay <command>`: the operator's entry point. Each command lives in commands/.
import { ConfigError } from '../config/index.js';
import { DomainError } from '../domain/index.js';
import { commands, usage } from './commands/index.js';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return name ? 0 : 1;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`assay: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    // Agenda and pools may keep timers alive after a clean stop; the command is done.
    if (code !== -1) process.exit(code);
  },
  (err: unknown) => {
    if (err instanceof ConfigError) process.stderr.write(`assay: configuration error: ${err.message}\n`);
    else if (err instanceof DomainError || (err as Error)?.name === 'DataFolderInUseError' || (err as Error)?.name === 'CliUsageError') process.stderr.write(`assay: ${(err as Error).message}\n`);
    else process.stderr.write(`assay: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(err instanceof ConfigError || (err as Error)?.name === 'CliUsageError' ? 2 : 1);
  },
);
