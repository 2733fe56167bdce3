// Structured logs. Secrets never reach them: tokens, signatures and auth headers are redacted by
// path, and every configured secret (SF_OUTBOUND_TOKEN sits in a URL path, for one) is masked
// wherever it appears in a written line, whatever logged it.
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** Exact strings never written: each occurrence becomes [redacted]. Short ones (< 8) are ignored. */
  secrets?: readonly (string | undefined)[];
  /** Where lines go (default stdout). */
  destination?: DestinationStream;
}

/** A destination that masks the given strings in every line before writing it. */
export function maskingDestination(secrets: readonly string[], to: DestinationStream): DestinationStream {
  // Longest first, so a secret containing another is masked whole; JSON-escaped forms too.
  const forms = [...new Set(secrets.flatMap((s) => [s, JSON.stringify(s).slice(1, -1), encodeURIComponent(s)]))].sort((a, b) => b.length - a.length);
  return {
    write(line: string) {
      let out = line;
      for (const f of forms) if (out.includes(f)) out = out.split(f).join('[redacted]');
      return to.write(out);
    },
  };
}

export function createLogger(level: string, name = 'assay', options: LoggerOptions = {}): Logger {
  const secrets = (options.secrets ?? []).filter((s): s is string => typeof s === 'string' && s.length >= 8);
  const base = options.destination ?? pino.destination(1);
  const destination = secrets.length ? maskingDestination(secrets, base) : base;
  return pino(
    {
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
    },
    destination,
  );
}

/**
 * An error as one short line: its code (or name) and message only. Client errors (Slack's Web
 * API, pg) can carry the request with its headers; logged whole they could leak a token.
 */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err).slice(0, 500);
  const code = (err as { code?: unknown }).code;
  return `${typeof code === 'string' && code ? code : err.name}: ${err.message}`.slice(0, 500);
}
