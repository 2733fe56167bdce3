// Operational notices (archived kit with an active model, stale edge, failed deployment).
// Slack posts them to the ops channel when it is configured; they always land in audit_log.
import type { DataSource } from 'typeorm';
import { writeAudit, systemActor } from '../services/audit.js';

export interface Notice {
  kind: string;
  text: string;
  entityType?: string;
  entityId?: string;
  details?: Record<string, unknown>;
}

export interface Notifier {
  /** Names this target in the log line and metric when a notice cannot be delivered. */
  readonly target?: string;
  notify(notice: Notice): Promise<void>;
}

/** Told about each target that failed a notice (the others may still have delivered it). */
export type NoticeFailure = (err: unknown, notice: Notice, target: string) => void;

export class AuditNotifier implements Notifier {
  readonly target = 'audit_log';
  constructor(private readonly dataSource: DataSource) {}
  async notify(n: Notice): Promise<void> {
    await writeAudit(this.dataSource.manager, systemActor, {
      action: `notice.${n.kind}`,
      entityType: n.entityType,
      entityId: n.entityId,
      details: { text: n.text, ...(n.details ?? {}) },
    });
  }
}

/** Sends to every notifier; one failing channel does not silence the others, and is reported. */
export class FanOutNotifier implements Notifier {
  constructor(private readonly targets: Notifier[], private readonly onFailure: NoticeFailure = () => undefined) {}
  add(n: Notifier) {
    this.targets.push(n);
  }
  async notify(n: Notice): Promise<void> {
    const targets = [...this.targets];
    const results = await Promise.allSettled(targets.map((t) => t.notify(n)));
    results.forEach((r, i) => {
      if (r.status === 'rejected') this.onFailure(r.reason, n, targets[i]!.target ?? 'unnamed');
    });
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed && results.every((r) => r.status === 'rejected')) throw failed.reason;
  }
}
