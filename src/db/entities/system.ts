// Inbound-event logs, wizard state and the audit trail.
import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { SalesforceEventStatus, WizardSessionStatus } from '../../domain/state-machines.js';

export type { SalesforceEventStatus };

@Entity('salesforce_events')
export class SalesforceEvent {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text', name: 'event_key' }) eventKey!: string;
  @Column({ type: 'text' }) source!: 'cdc' | 'outbound' | 'reconcile' | 'manual';
  @Column({ type: 'text', name: 'entity_name', nullable: true }) entityName!: string | null;
  @Column({ type: 'text', name: 'change_type', nullable: true }) changeType!: string | null;
  @Column({ type: 'text', name: 'record_ids', array: true, default: () => "'{}'" }) recordIds!: string[];
  @Column({ type: 'timestamptz', name: 'commit_timestamp', nullable: true }) commitTimestamp!: Date | null;
  @Column({ type: 'jsonb' }) payload!: unknown;
  @Column({ type: 'text', default: 'received' }) status!: SalesforceEventStatus;
  @Column({ type: 'integer', default: 0 }) attempts!: number;
  @Column({ type: 'text', nullable: true }) error!: string | null;
  @CreateDateColumn({ type: 'timestamptz', name: 'received_at' }) receivedAt!: Date;
  @Column({ type: 'timestamptz', name: 'processed_at', nullable: true }) processedAt!: Date | null;
}

export type WizardStep = 'kits' | 'options' | 'labels' | 'dataset' | 'done';

@Entity('wizard_sessions')
export class WizardSession {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text', name: 'user_id' }) userId!: string;
  @Column({ type: 'text', name: 'team_id', nullable: true }) teamId!: string | null;
  @Column({ type: 'text', name: 'channel_id', nullable: true }) channelId!: string | null;
  @Column({ type: 'text', default: 'kits' }) step!: WizardStep;
  @Column({ type: 'jsonb', default: {} }) state!: Record<string, unknown>;
  @Column({ type: 'text', name: 'view_id', nullable: true }) viewId!: string | null;
  @Column({ type: 'text', default: 'open' }) status!: WizardSessionStatus;
  @Column({ type: 'timestamptz', name: 'expires_at' }) expiresAt!: Date;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' }) updatedAt!: Date;
}

@Entity('slack_deliveries')
export class SlackDelivery {
  @PrimaryColumn({ type: 'text', name: 'delivery_key' }) deliveryKey!: string;
  @Column({ type: 'text' }) kind!: string;
  @CreateDateColumn({ type: 'timestamptz', name: 'received_at' }) receivedAt!: Date;
}

export type ActorType = 'slack_user' | 'salesforce' | 'edge' | 'system' | 'cli' | 'trainer';

@Entity('audit_log')
export class AuditLogEntry {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: string;
  @CreateDateColumn({ type: 'timestamptz' }) at!: Date;
  @Column({ type: 'text', name: 'actor_type' }) actorType!: ActorType;
  @Column({ type: 'text', name: 'actor_id', nullable: true }) actorId!: string | null;
  @Column({ type: 'text' }) action!: string;
  @Column({ type: 'text', name: 'entity_type', nullable: true }) entityType!: string | null;
  @Column({ type: 'text', name: 'entity_id', nullable: true }) entityId!: string | null;
  @Column({ type: 'jsonb', default: {} }) details!: Record<string, unknown>;
}
