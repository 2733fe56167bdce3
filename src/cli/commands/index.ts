import { migrateCommand, seedCommand } from './database.js';
import { startCommand } from './start.js';
import { evalCocoCommand } from './eval-coco.js';
import { evaluateCommand } from './evaluate.js';
import { edgeCommand } from './edge.js';
import { historyCommand } from './history.js';
import { demoCommand } from './demo.js';
import { syncCommand } from './sync.js';
import { cancelCommand } from './cancel.js';
import { modelCommand } from './model.js';
import type { CliCommand } from './types.js';

export const commands: CliCommand[] = [startCommand, migrateCommand, seedCommand, edgeCommand, historyCommand, syncCommand, demoCommand, evaluateCommand, evalCocoCommand, modelCommand, cancelCommand];

export function usage(): string {
  const width = Math.max(...commands.map((c) => c.usage.length));
  return `Assay: train, evaluate, approve and deploy test-kit vision models from Slack.\n\nUsage:\n${commands
    .map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`)
    .join('\n')}\n`;
}
