// Agendash at /admin/jobs for operators, behind ASSAY_ADMIN_TOKEN (Bearer, or Basic with the
// token as password so a browser can log in). Without the token the page is off (503 says why).
// Changes (POST...) with Basic must come from the dashboard's own pages (Origin check).
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

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The origin a request says it comes from (Origin, else Referer), or null. */
function requestOrigin(req: Request): string | null {
  const raw = req.get('origin') ?? req.get('referer');
  if (!raw || raw === 'null') return null;
  try {
    return new URL(raw).origin;
  } catch {
    return null;
  }
}

/**
 * A browser replays Basic credentials on any request to this host, including a form another site
 * posts (CSRF). State changes therefore need the Bearer header (a page cannot make a browser add
 * it), or Basic from a page of this very dashboard (Origin/Referer = this server).
 */
function crossSiteRefusal(req: Request, publicUrl: string): string | null {
  if (SAFE_METHODS.has(req.method)) return null;
  if (/^bearer\s/i.test(req.get('authorization') ?? '')) return null;
  const origin = requestOrigin(req);
  const own = new Set([new URL(publicUrl).origin, `${req.protocol}://${req.get('host')}`]);
  if (origin && own.has(origin)) return null;
  return origin
    ? `changes from another site (${origin.slice(0, 100)}) are refused: use the dashboard itself, or send Authorization: Bearer`
    : 'changes with Basic credentials need the Origin of this dashboard: use the dashboard itself, or send Authorization: Bearer';
}

export function adminAuth(token: string | undefined, publicUrl = 'http://localhost') {
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
    const refused = crossSiteRefusal(req, publicUrl);
    if (refused) {
      res.status(403).json({ error: refused });
      return;
    }
    next();
  };
}

export function registerJobsDashboard(app: Express, ctx: AppContext): void {
  app.use(JOBS_DASHBOARD_PATH, adminAuth(ctx.config.adminToken, ctx.config.publicUrl), ctx.config.adminToken ? createExpressMiddleware(ctx.agenda) : (_req, _res, next) => next());
}
