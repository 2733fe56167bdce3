// Salesforce intake: stored events, their apply jobs, and full reconciliations.
import type { KitSyncDeps } from '../kit-sync-service.js';
import { applySalesforceEvent, failEventAfterRetries } from '../kit-sync-service.js';
import { enqueueApply, salesforceIntakeStatus, storeEvents, unappliedEvents } from '../kit-sync-events.js';
import { requestCatalogSync, runCatalogSync } from '../sync-run-service.js';
import type { InboundEvent } from '../ports/catalog-source.js';
import type { ServiceDeps } from './deps.js';

export function kitSyncServices(d: ServiceDeps) {
  const deps: KitSyncDeps = { dataSource: d.db.dataSource, config: d.config, logger: d.logger, notifier: d.notifier, queue: d.queue, catalog: d.catalog, records: d.records };
  return {
    /** False when neither JWT nor SF_ALIAS is configured: no reconciliation, no change events. */
    apiConfigured: deps.catalog !== undefined,
    storeEvents: (events: InboundEvent[]) => storeEvents(deps.dataSource, events),
    enqueueApply: (eventIds: string[]) => enqueueApply(deps.queue, eventIds),
    unappliedEvents: (olderThanMinutes: number) => unappliedEvents(deps.dataSource, olderThanMinutes),
    intakeStatus: () => salesforceIntakeStatus(deps.dataSource),
    applyEvent: (eventId: string) => applySalesforceEvent(deps, eventId),
    failEventAfterRetries: (eventId: string, reason: string) => failEventAfterRetries(deps, eventId, reason),
    runCatalogSync: (input: Parameters<typeof runCatalogSync>[1]) => runCatalogSync(deps, input),
    requestCatalogSync: (input: Parameters<typeof requestCatalogSync>[1]) => requestCatalogSync({ dataSource: deps.dataSource, queue: deps.queue }, input),
  };
}
