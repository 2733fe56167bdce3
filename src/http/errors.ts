// One translation from errors to HTTP answers: a clear status and message, never a stack.
import type { NextFunction, Request, Response } from 'express';
import { ZodError } from 'zod';
import { ConflictError, DomainError, ForbiddenError, IllegalTransitionError, NotFoundError, ValidationError } from '../domain/index.js';
import { isDatabaseUnavailable } from '../services/db-errors.js';
import type { Logger } from '../app/logger.js';

export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly details?: unknown) {
    super(message);
  }
}

export function statusOf(err: unknown): number {
  if (err instanceof HttpError) return err.status;
  if (err instanceof ZodError || err instanceof ValidationError) return 400;
  if (err instanceof ForbiddenError) return 403;
  if (err instanceof NotFoundError) return 404;
  if (err instanceof ConflictError || err instanceof IllegalTransitionError) return 409;
  if (err instanceof DomainError) return 400;
  const e = err as { type?: string; status?: number; statusCode?: number };
  if (e?.type === 'entity.parse.failed') return 400;
  if (e?.type === 'entity.too.large') return 413;
  if (isDatabaseUnavailable(err)) return 503;
  const s = e?.status ?? e?.statusCode;
  return typeof s === 'number' && s >= 400 && s < 500 ? s : 500;
}

export function errorBody(err: unknown, status: number): Record<string, unknown> {
  if (err instanceof ZodError) return { error: 'invalid request', issues: err.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) };
  if (err instanceof HttpError) return { error: err.message, ...(err.details ? { details: err.details } : {}) };
  if (err instanceof DomainError) return { error: err.message, code: err.code };
  if (status === 400) return { error: 'malformed request body' };
  if (status === 413) return { error: 'request body too large' };
  if (status === 503) return { error: 'database unavailable, retry later' };
  if (status < 500) return { error: (err as Error)?.message ?? 'bad request' };
  return { error: 'internal error' };
}

export function errorMiddleware(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = statusOf(err);
    // The route pattern, not the path: a path can hold a token (SF_OUTBOUND_TOKEN).
    if (status >= 500) logger.error({ err, method: req.method, route: (req.route?.path as string | undefined) ?? '(no route)' }, 'request failed');
    if (res.headersSent) return;
    res.status(status).json(errorBody(err, status));
  };
}
