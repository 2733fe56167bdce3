// Slack deliveries seen (event ids, interaction keys): the table behind de-duplication.
import { LessThan, type EntityManager } from 'typeorm';
import { SlackDelivery } from '../db/entities/index.js';
import { returnedRows } from '../db/returned-rows.js';

/** Keys are cut to the column's 500 characters. */
const keyOf = (key: string) => key.slice(0, 500);

export class SlackDeliveryRepository {
  constructor(private readonly db: EntityManager) {}

  /** True when this call stored the key (nobody had), false when it was there already. */
  async insertIfNew(key: string, kind: string): Promise<boolean> {
    const result = await this.db.query(`INSERT INTO slack_deliveries (delivery_key, kind) VALUES ($1, $2) ON CONFLICT (delivery_key) DO NOTHING RETURNING delivery_key`, [keyOf(key), kind]);
    return returnedRows(result).length > 0;
  }

  async delete(key: string): Promise<void> {
    await this.db.delete(SlackDelivery, { deliveryKey: keyOf(key) });
  }

  async deleteReceivedBefore(before: Date): Promise<number> {
    return (await this.db.delete(SlackDelivery, { receivedAt: LessThan(before) })).affected ?? 0;
  }
}
