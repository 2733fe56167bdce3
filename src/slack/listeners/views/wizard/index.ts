// The training wizard's submits, one handler per step. Each validates its step and answers with
// response_action `update` (next step) or `errors` (under the exact input block).
import type { App } from '@slack/bolt';
import { guideImageChecker } from '../../../../services/guide-image-service.js';
import { WIZARD_CALLBACK } from '../../../../../views/wizard.js';
import type { SlackDeps } from '../../deps.js';
import { datasetSubmitted } from './dataset.js';
import { kitsSubmitted } from './kits.js';
import { labelsSubmitted } from './labels.js';
import { optionsSubmitted } from './options.js';

export function registerWizardViews(app: App, deps: SlackDeps): void {
  const wizard = { ...deps, guideImages: guideImageChecker({ allowPrivate: deps.ctx.config.fetch.allowPrivate }) };
  app.view(WIZARD_CALLBACK.kits, kitsSubmitted(wizard));
  app.view(WIZARD_CALLBACK.options, optionsSubmitted(wizard));
  app.view(WIZARD_CALLBACK.labels, labelsSubmitted(wizard));
  app.view(WIZARD_CALLBACK.dataset, datasetSubmitted(wizard));
}
