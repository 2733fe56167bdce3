// Trainings as people see them: cards, their Slack message, cancel, the promotion history.
import type { DataSource } from 'typeorm';
import { requestCancel } from '../training-service.js';
import { activeModelsPerKit, datasetReportForTraining, recentTrainings, setTrainingHomeMessage, trainingCard, trainingCardForModel } from '../slack-delivery-service.js';
import { promotionHistory } from '../history-service.js';
import type { Actor } from '../audit.js';

export function trainingServices(dataSource: DataSource) {
  const m = () => dataSource.manager;
  return {
    requestCancel: (trainingUid: string, actor: Actor, access: { approvers: ReadonlySet<string> }) => requestCancel(m(), trainingUid, actor, access),
    card: (trainingUid: string) => trainingCard(m(), trainingUid),
    cardForModel: (modelId: string) => trainingCardForModel(m(), modelId),
    recent: (limit: number) => recentTrainings(m(), limit),
    datasetReport: (trainingUid: string) => datasetReportForTraining(m(), trainingUid),
    /** The Slack message that shows the training (updated as it runs). */
    setHomeMessage: (trainingUid: string, channel: string, ts: string) => setTrainingHomeMessage(m(), trainingUid, channel, ts),
    activeModelsPerKit: () => activeModelsPerKit(m()),
  };
}

export function historyServices(dataSource: DataSource) {
  return { promotionHistory: (kit: string, at?: Date, option?: string) => promotionHistory(dataSource.manager, kit, at, option) };
}
