// The one access gate: every privileged action (approve, reject, deploy, rollback, cancel, sync
// and import) calls requireAccess first. The decision is the domain's (checkAccess); a refusal is audited in
// one shape — permission.denied with what was attempted and why — written outside the caller's
// transaction so it survives the refusal.
import type { EntityManager } from 'typeorm';
import { checkAccess, ForbiddenError, type PrivilegedAction } from '../domain/index.js';
import { writeAudit, type Actor } from './audit.js';

export interface AccessRequest {
  actor: Actor;
  action: PrivilegedAction;
  /** Absent for actions open to every team member (import); an approver action then refuses. */
  approvers?: ReadonlySet<string>;
  /** What the action is on, for the audit trail. */
  entity: { type: string; id?: string };
  requestedBy?: string | null;
}

export async function requireAccess(manager: EntityManager, request: AccessRequest): Promise<void> {
  const verdict = checkAccess({ actor: request.actor, action: request.action, approvers: request.approvers ?? new Set<string>(), requestedBy: request.requestedBy });
  if (verdict.allowed) return;
  await writeAudit(manager, request.actor, {
    action: 'permission.denied',
    entityType: request.entity.type,
    entityId: request.entity.id,
    details: { attempted: request.action, reason: verdict.reason },
  });
  throw new ForbiddenError(verdict.reason);
}
