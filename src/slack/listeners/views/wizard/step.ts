// What every wizard step shares: its session (private_metadata), field errors placed under the
// view's blocks (response_action `errors`), and the view of the step that follows.
import type { SlackViewMiddlewareArgs, ViewOutput } from '@slack/bolt';
import type { WizardSession } from '../../../../services/wizard-session-service.js';
import { DETECTOR_IMAGE_SIZE, FIELD_LIMITS, HYPERPARAMETER_LIMITS, ValidationError } from '../../../../domain/index.js';
import { WizardFieldErrors, type NextStep } from '../../../../services/wizard-flow-service.js';
import { checkGuideImages, type GuideImageChecker } from '../../../../services/guide-image-service.js';
import { datasetView, labelsView } from '../../../../../views/wizard.js';
import { blockFor } from '../../../wizard-state.js';
import { explain, type SlackDeps } from '../../deps.js';

export type Ack = (response?: Record<string, unknown>) => Promise<void>;
export type StepArgs = SlackViewMiddlewareArgs;

/** A step's dependencies: the listeners' own, and the guide-image checker (built once). */
export interface WizardDeps extends SlackDeps {
  guideImages: GuideImageChecker;
}

/** Field errors under their blocks, when the block is one of this view's inputs (else under `fallback`). */
function errorsFor(view: ViewOutput, err: unknown, fallback: string): Record<string, string> | null {
  const inputs = new Set(view.blocks.filter((b) => b.type === 'input').map((b) => b.block_id as string));
  const pick = (field: string | undefined) => {
    const block = field === undefined ? undefined : blockFor(field);
    return block && inputs.has(block) ? block : inputs.has(fallback) ? fallback : [...inputs][0]!;
  };
  if (err instanceof WizardFieldErrors) {
    const out: Record<string, string> = {};
    for (const [f, m] of Object.entries(err.fields)) out[pick(f)] = out[pick(f)] ? `${out[pick(f)]}; ${m}` : m!;
    return out;
  }
  if (err instanceof ValidationError) return { [pick(err.field)]: err.message };
  return null;
}

/** Runs one step with its open session; any error is acked as field errors (`fallback`: the block for errors without one). */
export async function withSession(deps: SlackDeps, view: ViewOutput, user: string, ack: Ack, fallback: string, step: (s: WizardSession) => Promise<void>): Promise<void> {
  try {
    const session = await deps.ctx.services.wizard.openSessionOf(view.private_metadata, user);
    await step(session);
  } catch (err) {
    const errors = errorsFor(view, err, fallback);
    if (errors) return void (await ack({ response_action: 'errors', errors }));
    const inputs = view.blocks.filter((b) => b.type === 'input').map((b) => b.block_id as string);
    await ack({ response_action: 'errors', errors: { [inputs[0] ?? fallback]: explain(deps, err, 'saving this step') } });
  }
}

/** What the dataset step says about its fields' caps and ranges (all from domain/). */
const DATASET_LIMITS = {
  datasetName: FIELD_LIMITS.datasetName,
  lineageName: FIELD_LIMITS.lineageName,
  url: FIELD_LIMITS.url,
  hyperparameters: { ...HYPERPARAMETER_LIMITS, detectorImageMultiple: DETECTOR_IMAGE_SIZE.multipleOf },
};

/** The next step's view; a guide image becomes an image block only once Assay could fetch it. */
export async function nextView(sessionId: string, next: NextStep, guideImages: GuideImageChecker) {
  return next.step === 'labels'
    ? labelsView({ sessionId, unlabeled: await checkGuideImages(next.unlabeled, guideImages), maxLength: FIELD_LIMITS.labelName })
    : datasetView({ sessionId, ...next.dataset, limits: DATASET_LIMITS });
}
