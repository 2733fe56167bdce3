// Each surface registers its own routes. Add a module here to mount it on the server.
import type { Express } from 'express';
import type { AppContext } from '../app/context.js';
import { registerHealthRoutes } from './health.js';
import { registerOpenApiRoutes } from './openapi.js';
import { registerEdgeRoutes } from './edge-api.js';
import { registerTrainerWebhook } from './trainer-webhook.js';
import { registerJobsDashboard } from './jobs-dashboard.js';
import { registerSalesforceWebhooks } from './salesforce-webhooks.js';
import { registerSlackRoutes } from '../slack/index.js';
import { registerMetricsRoute } from './metrics-route.js';

export type RouteModule = (app: Express, ctx: AppContext) => void | Promise<void>;

export const routeModules: RouteModule[] = [registerHealthRoutes, registerMetricsRoute, registerOpenApiRoutes, registerEdgeRoutes, registerSalesforceWebhooks, registerTrainerWebhook, registerSlackRoutes, registerJobsDashboard];
