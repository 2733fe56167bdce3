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
  notify(notice: Notice): Promise<void>;
}

export class AuditNotifier implements Notifier {
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

/** Sends to every notifier; one failing channel does not silence the others. */
export class FanOutNotifier implements Notifier {
  constructor(private readonly targets: Notifier[]) {}
  add(n: Notifier) {
    this.targets.push(n);
  }
  async notify(n: Notice): Promise<void> {
    const results = await Promise.allSettled(this.targets.map((t) => t.notify(n)));
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed && results.every((r) => r.status === 'rejected')) throw failed.reason;
  }
}
