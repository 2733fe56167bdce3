// Who the bot is (auth.test), learnt once at start and retried in the background. Bolt built from
// a token alone (token verification off) calls auth.test before EVERY listener, so each ack waited
// on Slack's Web API: slow past 3 s, the command was lost. Bolt's `authorize` hook answers from this
// cache instead and never waits; until the first answer arrives the bot ids are simply unknown
// (Bolt then cannot drop the bot's own events, and Assay listens to none that it sends).
import type { AuthorizeResult } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Logger } from '../app/logger.js';

/** Errors a retry cannot fix: the token itself is bad. */
const PERMANENT = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired', 'no_permission']);

export interface BotIds {
  botId?: string;
  botUserId?: string;
  teamId?: string;
}

export class BotIdentity {
  private ids: BotIds | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private stopped = false;

  constructor(
    private readonly client: WebClient,
    private readonly botToken: string,
    private readonly logger: Logger,
    /** Waits between attempts (ms); the last one repeats. */
    private readonly delays: readonly number[] = [1_000, 2_000, 5_000, 15_000, 60_000, 300_000],
  ) {}

  get known(): BotIds | null {
    return this.ids;
  }

  /** Bolt's authorize hook: the token and whatever is known of the bot, at once. */
  readonly authorize = async (): Promise<AuthorizeResult> => ({ botToken: this.botToken, ...(this.ids ?? {}) });

  /** Starts identifying (not awaited: start-up and acks never wait on Slack). */
  start(): void {
    if (this.running || this.ids) return;
    this.running = true;
    this.stopped = false;
    void this.attempt(0);
  }

  stop(): void {
    this.stopped = true;
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async attempt(n: number): Promise<void> {
    try {
      const r = await this.client.auth.test({ token: this.botToken });
      if (this.stopped) return;
      this.ids = { botId: r.bot_id, botUserId: r.user_id, teamId: r.team_id };
      this.running = false;
      this.logger.info({ botUserId: r.user_id, botId: r.bot_id }, 'Slack bot identified');
    } catch (err) {
      if (this.stopped) return;
      const code = (err as { data?: { error?: string } }).data?.error;
      if (code && PERMANENT.has(code)) {
        this.running = false;
        this.logger.error({ error: code }, 'Slack rejected the bot token (auth.test); Slack requests will fail until SLACK_BOT_TOKEN is fixed');
        return;
      }
      const wait = this.delays[Math.min(n, this.delays.length - 1)]!;
      this.logger.warn({ err: (err as Error).message, attempt: n + 1, retryInMs: wait }, 'Slack auth.test failed; retrying in the background');
      this.timer = setTimeout(() => void this.attempt(n + 1), wait);
      this.timer.unref();
    }
  }
}
