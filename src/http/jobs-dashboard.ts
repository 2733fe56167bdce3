// Agendash at /admin/jobs for operators, behind ASSAY_ADMIN_TOKEN (Bearer, or Basic with the
// token as password so a browser can log in). Without the token the page is off (503 says why).
import crypto from 'node:crypto';
import type { Express, NextFunction, Request, Response } from 'express';
import { createExpressMiddleware } from 'agendash';
import type { AppContext } from '../app/context.js';

export const JOBS_DASHBOARD_PATH = '/admin/jobs';

function sameSecret(given: string, expected: string): boolean {
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}

/** The token from `Authorization: Bearer <token>` or `Basic base64(any:<token>)`. */
export function presentedToken(header: string | undefined): string | null {
  if (!header) return null;
  const [scheme, value] = header.split(' ', 2);
  if (!value) return null;
  if (scheme?.toLowerCase() === 'bearer') return value.trim();
  if (scheme?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    return i >= 0 ? decoded.slice(i + 1) : null;
  }
  return null;
}

export function adminAuth(token: string | undefined) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!token) {
      res.status(503).json({ error: 'the jobs dashboard is off: set ASSAY_ADMIN_TOKEN to enable it' });
      return;
    }
    const given = presentedToken(req.get('authorization'));
    if (given === null || !sameSecret(given, token)) {
      res.setHeader('WWW-Authenticate', 'Basic realm="Assay jobs", charset="UTF-8"');
      res.status(401).json({ error: 'admin token required (Bearer, or Basic with the token as password)' });
      return;
    }
    next();
  };
}

export function registerJobsDashboard(app: Express, ctx: AppContext): void {
  app.use(JOBS_DASHBOARD_PATH, adminAuth(ctx.config.adminToken), ctx.config.adminToken ? createExpressMiddleware(ctx.agenda) : (_req, _res, next) => next());
}
