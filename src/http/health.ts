// Liveness and readiness for load balancers and the CLI's smoke checks.
import type { Express } from 'express';
import type { AppContext } from '../app/context.js';

export function registerHealthRoutes(app: Express, ctx: AppContext): void {
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await ctx.services.health.ping();
      res.json({ status: 'ready', database: ctx.services.health.database });
    } catch {
      res.status(503).json({ status: 'unavailable', database: ctx.services.health.database });
    }
  });
}
