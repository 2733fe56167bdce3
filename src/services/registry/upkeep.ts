// Slack delivery keys (dedupe of redeliveries) and the database readiness check.
import type { DataSource } from 'typeorm';
import type { Database } from '../../db/database.js';
import { forgetDeliveriesBefore, forgetDelivery, recordDelivery } from '../slack-delivery-service.js';

export function deliveryServices(dataSource: DataSource) {
  const m = () => dataSource.manager;
  return {
    /** False when this delivery was recorded before (a replay). */
    recordDelivery: (key: string, kind: string) => recordDelivery(m(), key, kind),
    forgetDelivery: (key: string) => forgetDelivery(m(), key),
    forgetBefore: (before: Date) => forgetDeliveriesBefore(m(), before),
  };
}

export function healthServices(db: Database) {
  return {
    database: db.kind,
    ping: async (): Promise<void> => void (await db.dataSource.query('SELECT 1')),
  };
}
