// Wizard state between modal steps (Slack's private_metadata holds only the session id).
import type { EntityManager } from 'typeorm';
import { LessThan } from 'typeorm';
import { WizardSession } from '../db/entities/index.js';

export async function expireWizardSessions(manager: EntityManager, now: Date): Promise<number> {
  const result = await manager.update(WizardSession, { status: 'open', expiresAt: LessThan(now) }, { status: 'expired' });
  return result.affected ?? 0;
}
