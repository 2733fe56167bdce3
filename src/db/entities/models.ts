// Models, their evaluations and their mapping to kit options.
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { EvaluationStatus, ModelStatus } from '../../domain/state-machines.js';
import type { ModelRuntime, ModelTask } from '../../domain/model-task.js';

@Entity('models')
export class Model {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'uuid', name: 'lineage_id' }) lineageId!: string;
  @Column({ type: 'uuid', name: 'training_uid', nullable: true }) trainingUid!: string | null;
  @Column({ type: 'integer', name: 'model_version' }) modelVersion!: number;
  @Column({ type: 'text', name: 'model_name' }) modelName!: string;
  @Column({ type: 'text', default: 'classify' }) task!: ModelTask;
  /** What an edge needs to run this version (input, class names, pre/post-processing). */
  @Column({ type: 'jsonb', nullable: true }) runtime!: ModelRuntime | null;
  @Column({ type: 'jsonb' }) labels!: string[];
  @Column({ type: 'jsonb', name: 'input_shape', nullable: true }) inputShape!: number[] | null;
  @Column({ type: 'text', name: 's3_model_path', nullable: true }) s3ModelPath!: string | null;
  @Column({ type: 'text', name: 'beam_model_path', nullable: true }) beamModelPath!: string | null;
  @Column({ type: 'text', name: 'artifact_sha256', nullable: true }) artifactSha256!: string | null;
  @Column({ type: 'bigint', name: 'artifact_size', nullable: true }) artifactSize!: string | null;
  @Column({ type: 'uuid', name: 'hyperparameters_uid', nullable: true }) hyperparametersUid!: string | null;
  @Column({ type: 'uuid', name: 'base_model_id', nullable: true }) baseModelId!: string | null;
  @Column({ type: 'text', default: 'draft' }) status!: ModelStatus;
  @Column({ type: 'jsonb', nullable: true }) metrics!: Record<string, unknown> | null;
  @Column({ type: 'text', name: 'approved_by', nullable: true }) approvedBy!: string | null;
  @Column({ type: 'timestamptz', name: 'approved_at', nullable: true }) approvedAt!: Date | null;
  @Column({ type: 'text', name: 'rejection_reason', nullable: true }) rejectionReason!: string | null;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' }) updatedAt!: Date;
}

@Entity('evaluations')
export class Evaluation {
  @PrimaryGeneratedColumn('uuid') uid!: string;
  @Column({ type: 'uuid', name: 'model_id' }) modelId!: string;
  @Column({ type: 'uuid', name: 'dataset_id', nullable: true }) datasetId!: string | null;
  @Column({ type: 'text', default: 'test' }) split!: 'train' | 'val' | 'test';
  @Column({ type: 'text', default: 'queued' }) status!: EvaluationStatus;
  @Column({ type: 'timestamptz', name: 'evaluation_start_time', nullable: true }) startTime!: Date | null;
  @Column({ type: 'timestamptz', name: 'evaluation_end_time', nullable: true }) endTime!: Date | null;
  @Column({ type: 'integer', name: 'evaluation_duration', nullable: true }) duration!: number | null;
  @Column({ type: 'jsonb', nullable: true }) metrics!: Record<string, unknown> | null;
  @Column({ type: 'text', name: 'evaluation_logs', default: '' }) logs!: string;
  @Column({ type: 'text', name: 'evaluation_error', nullable: true }) error!: string | null;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
}

@Entity('model_test_types')
export class ModelTestType {
  @PrimaryGeneratedColumn('uuid') uid!: string;
  @Column({ type: 'uuid', name: 'model_id' }) modelId!: string;
  @Column({ type: 'uuid', name: 'test_type_id' }) testTypeId!: string;
  @Column({ type: 'uuid', name: 'ai_option_uid' }) aiOptionUid!: string;
  @Column({ type: 'boolean', name: 'is_active', default: false }) isActive!: boolean;
  @Column({ type: 'uuid', name: 'previous_model_id', nullable: true }) previousModelId!: string | null;
  @Column({ type: 'timestamptz', name: 'activated_at', nullable: true }) activatedAt!: Date | null;
  @Column({ type: 'text', name: 'activated_by', nullable: true }) activatedBy!: string | null;
  @Column({ type: 'timestamptz', name: 'deactivated_at', nullable: true }) deactivatedAt!: Date | null;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
}
