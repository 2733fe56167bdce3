// Slack redelivers events (up to 3 retries) and a double click sends two interactions: the
// first time a key is recorded it is acted on, every later time it is not. Also the read models
// the Slack surfaces show (training cards, App Home); their SQL is in repositories/.
import { isUuid } from '../domain/ids.js';
import type { EntityManager } from 'typeorm';
import { AiOptionRepository } from '../repositories/ai-option-repository.js';
import { SlackDeliveryRepository } from '../repositories/slack-delivery-repository.js';
import { TrainingCardRepository, type ActiveModelRow, type TrainingCard } from '../repositories/training-card-repository.js';
import { TrainingRepository } from '../repositories/training-repository.js';

export type { ActiveModelRow, TrainingCard };

/** True the first time `key` is seen (this delivery should act), false for a redelivery. */
export async function recordDelivery(manager: EntityManager, key: string, kind: string): Promise<boolean> {
  return new SlackDeliveryRepository(manager).insertIfNew(key, kind);
}

/** Lets a later delivery act again (the first one's action failed half-way). */
export async function forgetDelivery(manager: EntityManager, key: string): Promise<void> {
  await new SlackDeliveryRepository(manager).delete(key);
}

export async function forgetDeliveriesBefore(manager: EntityManager, before: Date): Promise<number> {
  return new SlackDeliveryRepository(manager).deleteReceivedBefore(before);
}

/** Where a training's home message lives (channel + ts), once posted. */
export async function setTrainingHomeMessage(manager: EntityManager, trainingUid: string, channel: string, ts: string): Promise<void> {
  await new TrainingRepository(manager).setHomeMessage(trainingUid, channel, ts);
}

/** A class key is an option's label (label_name, else name); its title is the option's Salesforce name. */
async function classTitles(manager: EntityManager, labels: string[]): Promise<Record<string, string | null>> {
  return new AiOptionRepository(manager).titlesByLabel(labels);
}

/** A detector's card also names its classes by the options' Salesforce names. */
async function withClassTitles(manager: EntityManager, found: { card: TrainingCard; modelLabels: string[] } | null): Promise<TrainingCard | null> {
  if (!found) return null;
  const { card, modelLabels } = found;
  if (card.model && card.model.metrics?.task === 'detect') {
    const names = Object.keys((card.model.metrics.per_class ?? {}) as Record<string, unknown>);
    card.model.classTitles = await classTitles(manager, names.length ? names : modelLabels);
  }
  return card;
}

export async function trainingCard(manager: EntityManager, trainingUid: string): Promise<TrainingCard | null> {
  if (!isUuid(trainingUid)) return null;
  return withClassTitles(manager, await new TrainingCardRepository(manager).byTraining(trainingUid));
}

/** The validation report of a training's dataset (null until validated). */
export async function datasetReportForTraining(manager: EntityManager, trainingUid: string): Promise<Record<string, unknown> | null> {
  if (!isUuid(trainingUid)) return null;
  return new TrainingCardRepository(manager).datasetReport(trainingUid);
}

export async function trainingCardForModel(manager: EntityManager, modelId: string): Promise<TrainingCard | null> {
  if (!isUuid(modelId)) return null;
  return withClassTitles(manager, await new TrainingCardRepository(manager).byModel(modelId));
}

export async function recentTrainings(manager: EntityManager, limit = 10): Promise<TrainingCard[]> {
  return new TrainingCardRepository(manager).recent(limit);
}

/** The active model of every kit option (App Home), kits in name order. */
export async function activeModelsPerKit(manager: EntityManager, limit = 60): Promise<ActiveModelRow[]> {
  return new TrainingCardRepository(manager).activeModelsPerKit(limit);
}
