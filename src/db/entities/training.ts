// Lineages, hyperparameters, datasets and trainings: everything that goes into a model.
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { ModelTask } from '../../domain/model-task.js';
import type { DatasetStatus, TrainingMode, TrainingStatus, TrainerKind } from '../../domain/state-machines.js';

@Entity('training_lineages')
export class TrainingLineage {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text', name: 'lineage_key' }) lineageKey!: string;
  /** The seeds' consistent training_id: short, stable, part of every model name. */
  @Column({ type: 'text', name: 'training_id' }) trainingId!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'uuid', name: 'option_uids', array: true }) optionUids!: string[];
  @Column({ type: 'integer', name: 'last_model_version', default: 0 }) lastModelVersion!: number;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
}

@Entity('hyperparameters')
export class Hyperparameters {
  @PrimaryGeneratedColumn('uuid') uid!: string;
  @Column({ type: 'text' }) fingerprint!: string;
  @Column({ type: 'jsonb' }) params!: Record<string, unknown>;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
}

export type { DatasetStatus };

@Entity('datasets')
export class Dataset {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'uuid', name: 'lineage_id', nullable: true }) lineageId!: string | null;
  @Column({ type: 'text' }) source!: 'upload' | 'url';
  @Column({ type: 'text', name: 'source_uri' }) sourceUri!: string;
  @Column({ type: 'text', name: 'storage_path', nullable: true }) storagePath!: string | null;
  @Column({ type: 'text', nullable: true }) sha256!: string | null;
  @Column({ type: 'bigint', name: 'size_bytes', nullable: true }) sizeBytes!: string | null;
  @Column({ type: 'text', default: 'coco' }) format!: 'coco';
  @Column({ type: 'jsonb', name: 'split_counts', default: {} }) splitCounts!: Record<string, number>;
  @Column({ type: 'jsonb', name: 'label_counts', default: {} }) labelCounts!: Record<string, Record<string, number>>;
  @Column({ type: 'jsonb', name: 'validation_report', nullable: true }) validationReport!: Record<string, unknown> | null;
  @Column({ type: 'text', default: 'pending' }) status!: DatasetStatus;
  @Column({ type: 'text', name: 'created_by', nullable: true }) createdBy!: string | null;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' }) updatedAt!: Date;
}

export interface EpochMetrics {
  epoch: number;
  loss: number;
  /** Classifiers only. */
  accuracy?: number;
  /** Detectors: validation mAP50 in the epochs it was measured. */
  valMap50?: number;
  valLoss?: number;
  valAccuracy?: number;
}

@Entity('model_trainings')
export class ModelTraining {
  @PrimaryGeneratedColumn('uuid') uid!: string;
  @Column({ type: 'uuid', name: 'lineage_id' }) lineageId!: string;
  @Column({ type: 'uuid', name: 'dataset_id', nullable: true }) datasetId!: string | null;
  @Column({ type: 'text', name: 'dataset_name' }) datasetName!: string;
  @Column({ type: 'uuid', name: 'model_id', nullable: true }) modelId!: string | null;
  @Column({ type: 'uuid', name: 'base_model_id', nullable: true }) baseModelId!: string | null;
  /** Null only for imported models (trainer 'import'). */
  @Column({ type: 'uuid', name: 'hyperparameters_uid', nullable: true }) hyperparametersUid!: string | null;
  @Column({ type: 'uuid', name: 'test_type_ids', array: true, default: () => "'{}'" }) testTypeIds!: string[];
  @Column({ type: 'text' }) mode!: TrainingMode;
  @Column({ type: 'text', default: 'tfjs' }) trainer!: TrainerKind;
  /** What the training produces: a detector or a crop classifier. */
  @Column({ type: 'text', default: 'classify' }) task!: ModelTask;
  @Column({ type: 'text', name: 'remote_job_id', nullable: true }) remoteJobId!: string | null;
  @Column({ type: 'text', default: 'queued' }) status!: TrainingStatus;
  @Column({ type: 'real', default: 0 }) progress!: number;
  @Column({ type: 'integer', name: 'current_epoch', default: 0 }) currentEpoch!: number;
  @Column({ type: 'integer', name: 'total_epochs' }) totalEpochs!: number;
  @Column({ type: 'jsonb', default: [] }) metrics!: EpochMetrics[];
  @Column({ type: 'timestamptz', name: 'training_start_time', nullable: true }) trainingStartTime!: Date | null;
  @Column({ type: 'timestamptz', name: 'training_end_time', nullable: true }) trainingEndTime!: Date | null;
  @Column({ type: 'integer', name: 'training_duration', nullable: true }) trainingDuration!: number | null;
  @Column({ type: 'text', name: 'training_logs', default: '' }) trainingLogs!: string;
  @Column({ type: 'text', name: 'training_error', nullable: true }) trainingError!: string | null;
  @Column({ type: 'text', name: 'requested_by' }) requestedBy!: string;
  @Column({ type: 'text', name: 'slack_channel', nullable: true }) slackChannel!: string | null;
  @Column({ type: 'text', name: 'slack_ts', nullable: true }) slackTs!: string | null;
  @Column({ type: 'boolean', name: 'cancel_requested', default: false }) cancelRequested!: boolean;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' }) updatedAt!: Date;
}
