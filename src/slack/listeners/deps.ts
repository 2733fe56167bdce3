// What every listener gets: the context, the Web API client, approvers and the message keeper.
import type { WebClient } from '@slack/web-api';
import type { AppContext } from '../../app/context.js';
import type { ApproverDirectory } from '../approvers.js';
import type { TrainingMessages } from '../training-messages.js';
import { DomainError } from '../../domain/index.js';
import { escapeMrkdwn } from '../../../views/mrkdwn.js';

export interface SlackDeps {
  ctx: AppContext;
  client: WebClient;
  approvers: ApproverDirectory;
  messages: TrainingMessages;
}

/** A domain error's message is safe to show; anything else becomes a generic line (and a log). */
export function explain(deps: SlackDeps, err: unknown, what: string): string {
  if (err instanceof DomainError) return err.message;
  deps.ctx.logger.error({ err: (err as Error)?.message }, `${what} failed`);
  return `Something went wrong while ${what}; it has been logged. Try again in a moment.`;
}

/** explain() for a message (mrkdwn): the error's words may hold kit names or what the user typed. */
export function explainMrkdwn(deps: SlackDeps, err: unknown, what: string): string {
  return escapeMrkdwn(explain(deps, err, what));
}

/** Ephemeral note to one user where they clicked (channel message or DM). `text` is mrkdwn: escape what came from outside. */
export async function tellUser(deps: SlackDeps, channel: string | undefined, user: string, text: string): Promise<void> {
  try {
    if (channel) await deps.client.chat.postEphemeral({ channel, user, text });
    else await deps.client.chat.postMessage({ channel: user, text });
  } catch (err) {
    deps.ctx.logger.warn({ err: (err as Error).message }, 'could not tell the user');
  }
}
