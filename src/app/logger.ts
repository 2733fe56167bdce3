// Structured logs. Secrets never reach them: tokens, signatures and auth headers are redacted.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, name = 'assay'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-slack-signature"]',
        'req.headers["x-assay-signature"]',
        '*.token',
        '*.botToken',
        '*.signingSecret',
        '*.secret',
        '*.password',
        '*.accessToken',
        '*.access_token',
        '*.privateKey',
      ],
      censor: '[redacted]',
    },
  });
}
