// Wizard state between modal steps (Slack's private_metadata holds only the session id).
import type { EntityManager } from 'typeorm';
import { In, LessThan } from 'typeorm';
import { WizardSession, type WizardStep } from '../db/entities/index.js';
import { sourcesOf, ValidationError } from '../domain/index.js';
import { setStatus } from './transitions.js';

export async function expireWizardSessions(manager: EntityManager, now: Date): Promise<number> {
  const result = await manager.update(WizardSession, { status: In(sourcesOf('wizard_session', 'expired')), expiresAt: LessThan(now) }, { status: 'expired' });
  return result.affected ?? 0;
}

/** What the training wizard remembers between modal steps. */
export interface WizardState {
  kitIds?: string[];
  optionUids?: string[];
}

export async function openWizardSession(
  manager: EntityManager,
  input: { id?: string; userId: string; teamId?: string | null; channelId?: string | null; viewId?: string | null; ttlMinutes: number; now?: Date },
): Promise<WizardSession> {
  const now = input.now ?? new Date();
  return manager.save(
    WizardSession,
    manager.create(WizardSession, {
      ...(input.id ? { id: input.id } : {}),
      userId: input.userId,
      teamId: input.teamId ?? null,
      channelId: input.channelId ?? null,
      viewId: input.viewId ?? null,
      step: 'kits',
      state: {},
      status: 'open',
      expiresAt: new Date(now.getTime() + input.ttlMinutes * 60_000),
    }),
  );
}

/** The open session of this user, or a ValidationError the modal can show (expired, someone else's). */
export async function getOpenWizardSession(manager: EntityManager, id: string, userId: string, now = new Date()): Promise<WizardSession> {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
  const s = uuid ? await manager.findOne(WizardSession, { where: { id } }) : null;
  if (!s || s.userId !== userId) throw new ValidationError('This wizard is not yours or no longer exists: run /assay train again', 'wizard');
  if (s.status !== 'open' || s.expiresAt.getTime() < now.getTime()) {
    throw new ValidationError('This wizard has expired: close it and run /assay train again', 'wizard');
  }
  return s;
}

/** Moves the session to `step`, merging `patch` into its state and extending its life. */
export async function advanceWizardSession(
  manager: EntityManager,
  session: WizardSession,
  step: WizardStep,
  patch: Partial<WizardState>,
  ttlMinutes: number,
  extra: { viewId?: string | null; status?: WizardSession['status'] } = {},
): Promise<WizardSession> {
  const state = { ...(session.state as WizardState), ...patch };
  const update = {
    step,
    state: state as Record<string, unknown>,
    expiresAt: new Date(Date.now() + ttlMinutes * 60_000),
    ...(extra.viewId !== undefined ? { viewId: extra.viewId } : {}),
    ...(extra.status ? { status: extra.status } : {}),
  };
  if (extra.status) await setStatus(manager, 'wizard_session', session.id, extra.status, update as never);
  else await manager.update(WizardSession, { id: session.id }, update as never);
  return Object.assign(session, update);
}

/** A wizard session as the Slack adapter sees it. */
export type { WizardSession } from '../db/entities/index.js';
