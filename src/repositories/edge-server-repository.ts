// Edge servers (more of edge_servers' SQL moves here from edge-service.ts in a later step).
import type { EntityManager } from 'typeorm';

export class EdgeServerRepository {
  constructor(private readonly db: EntityManager) {}

  /** Seconds since each unrevoked edge's last heartbeat (null: never), by name. */
  async heartbeatAges(): Promise<{ name: string; ageSeconds: number | null }[]> {
    const rows: { name: string; age: string | null }[] = await this.db.query(
      `SELECT name, extract(epoch FROM now() - last_heartbeat_at)::text AS age FROM edge_servers WHERE revoked_at IS NULL ORDER BY name`,
    );
    return rows.map((r) => ({ name: r.name, ageSeconds: r.age === null ? null : Math.max(0, Number(r.age)) }));
  }
}
