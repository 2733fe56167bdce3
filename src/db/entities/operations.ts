// Approvals, deployments and edge servers: what happens after a model is trained.
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { DeploymentStatus } from '../../domain/state-machines.js';

export interface KitOptionRef {
  testTypeId: string;
  aiOptionUid: string;
}

@Entity('approvals')
export class Approval {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'uuid', name: 'model_id' }) modelId!: string;
  @Column({ type: 'text' }) kind!: 'decision' | 'deploy' | 'rollback';
  @Column({ type: 'text' }) decision!: 'approved' | 'rejected' | 'confirmed';
  @Column({ type: 'text' }) actor!: string;
  @Column({ type: 'text', nullable: true }) comment!: string | null;
  @Column({ type: 'text', name: 'slack_channel', nullable: true }) slackChannel!: string | null;
  @Column({ type: 'text', name: 'slack_ts', nullable: true }) slackTs!: string | null;
  @Column({ type: 'text', name: 'interaction_key', nullable: true }) interactionKey!: string | null;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
}

@Entity('edge_servers')
export class EdgeServer {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text', name: 'token_hash' }) tokenHash!: string;
  @Column({ type: 'timestamptz', name: 'last_heartbeat_at', nullable: true }) lastHeartbeatAt!: Date | null;
  @Column({ type: 'jsonb', name: 'reported_models', default: [] }) reportedModels!: unknown[];
  @Column({ type: 'timestamptz', name: 'stale_notified_at', nullable: true }) staleNotifiedAt!: Date | null;
  @Column({ type: 'timestamptz', name: 'revoked_at', nullable: true }) revokedAt!: Date | null;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
}

@Entity('deployments')
export class Deployment {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'uuid', name: 'model_id' }) modelId!: string;
  @Column({ type: 'uuid', name: 'previous_model_id', nullable: true }) previousModelId!: string | null;
  @Column({ type: 'text' }) target!: string;
  @Column({ type: 'uuid', name: 'edge_server_id', nullable: true }) edgeServerId!: string | null;
  @Column({ type: 'jsonb', default: [] }) scope!: KitOptionRef[];
  @Column({ type: 'text', default: 'pending' }) status!: DeploymentStatus;
  @Column({ type: 'real', default: 0 }) progress!: number;
  @Column({ type: 'text', name: 'requested_by' }) requestedBy!: string;
  @Column({ type: 'integer', name: 'retry_count', default: 0 }) retryCount!: number;
  @Column({ type: 'text', nullable: true }) error!: string | null;
  @Column({ type: 'timestamptz', name: 'completed_at', nullable: true }) completedAt!: Date | null;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' }) updatedAt!: Date;
}
