// The Express app behind `assay start --web`. Body parsing is per route: webhooks verify
// signatures over the raw bytes, so nothing parses bodies globally.
import express, { type Express } from 'express';
import type { AppContext } from '../app/context.js';
import { errorMiddleware, HttpError } from './errors.js';
import { routeModules, type RouteModule } from './routes.js';

export async function createHttpApp(ctx: AppContext, modules: RouteModule[] = routeModules): Promise<Express> {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  for (const register of modules) await register(app, ctx);
  app.use((req, _res, next) => next(new HttpError(404, `no route for ${req.method} ${req.path}`)));
  app.use(errorMiddleware(ctx.logger));
  return app;
}
