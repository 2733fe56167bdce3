import { AiOption, TestType, TestTypeAiOption } from './catalog.js';
import { Approval, Deployment, EdgeServer } from './operations.js';
import { Evaluation, Model, ModelTestType } from './models.js';
import { AuditLogEntry, SalesforceEvent, SlackDelivery, WizardSession } from './system.js';
import { Dataset, Hyperparameters, ModelTraining, TrainingLineage } from './training.js';

export * from './catalog.js';
export * from './operations.js';
export * from './models.js';
export * from './system.js';
export * from './training.js';

export const entities = [
  AiOption, TestType, TestTypeAiOption, TrainingLineage, Hyperparameters, Dataset, ModelTraining,
  Model, Evaluation, ModelTestType, Approval, Deployment, EdgeServer, SalesforceEvent, WizardSession,
  SlackDelivery, AuditLogEntry,
];
