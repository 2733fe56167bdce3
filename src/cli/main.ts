#!/usr/bin/env node
// `assay <command>`: the operator's entry point. Each command lives in commands/.
// Only the command table loads here; a command's modules load when it runs (commands/index.ts).
import { ConfigError } from '../config/errors.js';
import { DomainError } from '../domain/errors.js';
import { commands, usage } from './commands/index.js';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return name ? 0 : 1;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    process.stderr.write(`assay: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  return (await entry.load()).run(rest);
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
