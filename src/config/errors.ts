// A setting that stops start-up: the CLI prints its message as one line and exits 2.
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
