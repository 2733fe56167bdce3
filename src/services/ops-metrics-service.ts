// What the Prometheus gauges read at scrape time: trainings by status, edge heartbeat ages.
import type { DataSource } from 'typeorm';

export async function trainingsByStatus(ds: DataSource): Promise<{ status: string; n: number }[]> {
  const rows: { status: string; n: string }[] = await ds.query(`SELECT status, count(*)::text AS n FROM model_trainings GROUP BY status`);
  return rows.map((r) => ({ status: r.status, n: Number(r.n) }));
}

export async function edgeHeartbeatAges(ds: DataSource): Promise<{ name: string; ageSeconds: number | null }[]> {
  const rows: { name: string; age: string | null }[] = await ds.query(
    `SELECT name, extract(epoch FROM now() - last_heartbeat_at)::text AS age FROM edge_servers WHERE revoked_at IS NULL ORDER BY name`,
  );
  return rows.map((r) => ({ name: r.name, ageSeconds: r.age === null ? null : Math.max(0, Number(r.age)) }));
}
