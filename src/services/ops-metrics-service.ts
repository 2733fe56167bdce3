// What the Prometheus gauges read at scrape time: trainings by status, edge heartbeat ages.
import type { DataSource } from 'typeorm';
import { EdgeServerRepository } from '../repositories/edge-server-repository.js';
import { TrainingRepository } from '../repositories/training-repository.js';

export function trainingsByStatus(ds: DataSource): Promise<{ status: string; n: number }[]> {
  return new TrainingRepository(ds.manager).countByStatus();
}

export function edgeHeartbeatAges(ds: DataSource): Promise<{ name: string; ageSeconds: number | null }[]> {
  return new EdgeServerRepository(ds.manager).heartbeatAges();
}
