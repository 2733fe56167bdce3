// The audit trail: every state change writes here in the same transaction as the change.
import type { EntityManager } from 'typeorm';
import { AuditLogEntry, type ActorType } from '../db/entities/index.js';

export interface Actor {
  type: ActorType;
  id: string | null;
}

export const systemActor: Actor = { type: 'system', id: null };
export const slackUser = (id: string): Actor => ({ type: 'slack_user', id });

export interface AuditInput {
  action: string;
  entityType?: string;
  entityId?: string;
  details?: Record<string, unknown>;
}

export async function writeAudit(manager: EntityManager, actor: Actor, input: AuditInput): Promise<void> {
  await manager.insert(AuditLogEntry, {
    actorType: actor.type,
    actorId: actor.id,
    action: input.action,
    entityType: input.entityType ?? null,
    entityId: input.entityId ?? null,
    details: (input.details ?? {}) as AuditLogEntry["details"] as never,
  });
}
