export interface CliCommand {
  name: string;
  summary: string;
  usage: string;
  /** Resolves to the exit code; -1 keeps the process running (the server). */
  run(args: string[]): Promise<number>;
}

export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}
