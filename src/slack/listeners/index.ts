// Listeners by surface; each file exports register(app, deps).
import type { App } from '@slack/bolt';
import type { SlackDeps } from './deps.js';
import { registerAssayCommand } from './commands/assay.js';
import { registerModelActions } from './actions/model.js';
import { registerWizardViews } from './views/wizard/index.js';
import { registerImportView } from './views/model-import.js';
import { registerDecisionViews } from './views/decisions.js';
import { registerAppHome } from './events/app-home.js';
import { registerKitOptions } from './options/kits.js';

export function registerListeners(app: App, deps: SlackDeps): void {
  registerAssayCommand(app, deps);
  registerModelActions(app, deps);
  registerWizardViews(app, deps);
  registerImportView(app, deps);
  registerDecisionViews(app, deps);
  registerAppHome(app, deps);
  registerKitOptions(app, deps);
}
