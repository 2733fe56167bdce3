// The Express app behind `assay start --web`. Body parsing is per route: webhooks verify
// signatures over the raw bytes, so nothing parses bodies globally.
import express, { type Express, type RequestHandler } from 'express';
import type { AppContext } from '../app/context.js';
import { errorMiddleware, HttpError } from './errors.js';
import { routeModules, type RouteModule } from './routes.js';
import type { Metrics } from '../app/metrics.js';

/** Duration of every request by route pattern (never the path: it may hold ids and tokens). */
function requestMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const end = metrics.httpDuration.startTimer();
    res.once('finish', () => {
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : req.baseUrl || '(unmatched)';
      end({ route, method: req.method, status: String(res.statusCode) });
    });
    next();
  };
}

export async function createHttpApp(ctx: AppContext, modules: RouteModule[] = routeModules): Promise<Express> {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(requestMetrics(ctx.metrics));
  for (const register of modules) await register(app, ctx);
  app.use((req, _res, next) => next(new HttpError(404, `no route for ${req.method} ${req.path}`)));
  app.use(errorMiddleware(ctx.logger));
  return app;
}
