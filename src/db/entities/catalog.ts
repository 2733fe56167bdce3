// Kits (test_types), AI options and their links: the catalog synced from Salesforce.
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { KitStatus } from '../../domain/state-machines.js';

@Entity('ai_options')
export class AiOption {
  @PrimaryGeneratedColumn('uuid') uid!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text', name: 'label_name', nullable: true }) labelName!: string | null;
  @Column({ type: 'boolean', default: true }) selectable!: boolean;
  @Column({ type: 'text', nullable: true }) description!: string | null;
  @Column({ type: 'text', name: 'example_image_url', nullable: true }) exampleImageUrl!: string | null;
  @Column({ type: 'boolean', default: true }) active!: boolean;
  @Column({ type: 'text', name: 'salesforce_id', nullable: true }) salesforceId!: string | null;
  @Column({ type: 'timestamptz', name: 'sf_last_modified_at', nullable: true }) sfLastModifiedAt!: Date | null;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' }) updatedAt!: Date;
}

export type { KitStatus };

@Entity('test_types')
export class TestType {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text', name: 'kit_id' }) kitId!: string;
  @Column({ type: 'text', name: 'kit_name' }) kitName!: string;
  @Column({ type: 'text', name: 'salesforce_id', nullable: true }) salesforceId!: string | null;
  @Column({ type: 'text', default: 'active' }) status!: KitStatus;
  @Column({ type: 'timestamptz', name: 'sf_last_modified_at', nullable: true }) sfLastModifiedAt!: Date | null;
  @Column({ type: 'timestamptz', name: 'last_synced_at', nullable: true }) lastSyncedAt!: Date | null;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' }) updatedAt!: Date;
}

@Entity('test_type_ai_options')
export class TestTypeAiOption {
  @PrimaryGeneratedColumn('uuid') uid!: string;
  @Column({ type: 'uuid', name: 'test_type_id' }) testTypeId!: string;
  @Column({ type: 'uuid', name: 'ai_option_uid' }) aiOptionUid!: string;
  @Column({ type: 'boolean', default: true }) selectable!: boolean;
  @Column({ type: 'text', name: 'salesforce_id', nullable: true }) salesforceId!: string | null;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
}
