// What the admin channel runs: database-only, so the CLI builds it on a bare connection when no
// server holds the database (and loads none of the training or sync modules for it).
import type { Database } from '../../db/database.js';
import type { Services } from '../index.js';
import { catalogServices } from './catalog.js';
import { historyServices, trainingServices } from './trainings.js';
import { edgeRegistryServices } from './edges.js';

export type AdminServices = Pick<Services, 'catalog' | 'trainings' | 'history'> & { edges: ReturnType<typeof edgeRegistryServices> };

export function buildAdminServices(db: Database): AdminServices {
  const ds = db.dataSource;
  return { catalog: catalogServices(ds), trainings: trainingServices(ds), history: historyServices(ds), edges: edgeRegistryServices(ds) };
}
