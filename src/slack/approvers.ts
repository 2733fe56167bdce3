// Who may approve: ASSAY_APPROVERS plus the members of SLACK_APPROVER_GROUP, cached ~5 min so
// a click does not wait on usergroups.users.list. A failed lookup keeps the last good list.
import type { WebClient } from '@slack/web-api';
import type { Logger } from '../app/logger.js';

export class ApproverDirectory {
  private cached: { users: Set<string>; at: number } | null = null;
  private pending: Promise<Set<string>> | null = null;

  constructor(
    private readonly client: WebClient,
    private readonly fixed: readonly string[],
    private readonly group: string | undefined,
    private readonly logger: Logger,
    private readonly ttlMs = 5 * 60_000,
  ) {}

  async approvers(): Promise<ReadonlySet<string>> {
    if (!this.group) return new Set(this.fixed);
    if (this.cached && Date.now() - this.cached.at < this.ttlMs) return this.cached.users;
    this.pending ??= this.load().finally(() => (this.pending = null));
    return this.pending;
  }

  private async load(): Promise<Set<string>> {
    try {
      const r = await this.client.usergroups.users.list({ usergroup: this.group! });
      const users = new Set([...this.fixed, ...((r.users as string[] | undefined) ?? [])]);
      this.cached = { users, at: Date.now() };
      return users;
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, group: this.group }, 'could not list the approver user group; using the last known approvers');
      return this.cached?.users ?? new Set(this.fixed);
    }
  }
}
