// Each surface registers its own routes. Add a module here to mount it on the server.
import type { Express } from 'express';
import type { AppContext } from '../app/context.js';
import { registerHealthRoutes } from './health.js';

export type RouteModule = (app: Express, ctx: AppContext) => void | Promise<void>;

export const routeModules: RouteModule[] = [registerHealthRoutes];
