// Prometheus metrics, one registry per running Assay (tests start several in one process). Code
// that wants a number measured takes `ctx.metrics` and calls one of the instruments below; the
// gauges that describe the database (queue depth, trainings by state, edge heartbeat age) are
// read when Prometheus scrapes. Served at GET /metrics (src/http/metrics-route.ts).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface MetricsSources {
  /** Jobs per name and state (Agenda's overview). */
  jobs(): Promise<{ name: string; queued: number; running: number; scheduled: number; failed: number }[]>;
  /** Trainings per status. */
  trainings(): Promise<{ status: string; n: number }[]>;
  /** Non-revoked edges with the age of their last heartbeat (null: never). */
  edges(): Promise<{ name: string; ageSeconds: number | null }[]>;
}

export type WebhookSource = 'salesforce_cdc' | 'salesforce_outbound' | 'trainer';
export type IntakeOutcome = 'stored' | 'duplicate' | 'ignored' | 'refused';

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({ name: 'assay_http_request_duration_seconds', help: 'HTTP requests by route pattern, method and status', labelNames: ['route', 'method', 'status'] as const, buckets: SECONDS, registers: [this.registry] });
  readonly slackAck = new Histogram({ name: 'assay_slack_ack_seconds', help: 'Time from a Slack request arriving to its HTTP answer (the ack), by payload type', labelNames: ['type'] as const, buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5], registers: [this.registry] });
  readonly webhookEvents = new Counter({ name: 'assay_webhook_events_total', help: 'Webhook intake: events stored, recognised as duplicates, ignored (caused by Assay), or requests refused', labelNames: ['source', 'outcome'] as const, registers: [this.registry] });
  readonly salesforceApplyLag = new Histogram({ name: 'assay_salesforce_apply_lag_seconds', help: 'Time from a Salesforce event being stored to being applied (or ignored)', labelNames: ['status'] as const, buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600], registers: [this.registry] });
  readonly jobDuration = new Histogram({ name: 'assay_job_duration_seconds', help: 'Job runs by name and outcome', labelNames: ['name', 'outcome'] as const, buckets: [0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 1800, 7200], registers: [this.registry] });
  readonly jobFailures = new Counter({ name: 'assay_job_failures_total', help: 'Job runs that threw, by name', labelNames: ['name'] as const, registers: [this.registry] });
  readonly noticeFailures = new Counter({ name: 'assay_notice_failures_total', help: 'Ops notices a target (slack, audit_log) could not deliver', labelNames: ['target'] as const, registers: [this.registry] });

  constructor(sources?: MetricsSources) {
    collectDefaultMetrics({ register: this.registry, prefix: 'assay_' });
    if (!sources) return;
    new Gauge({
      name: 'assay_jobs',
      help: 'Jobs by name and state (queued = due and waiting for a worker)',
      labelNames: ['name', 'state'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const j of await sources.jobs()) for (const state of ['queued', 'running', 'scheduled', 'failed'] as const) this.set({ name: j.name, state }, j[state]);
      },
    });
    new Gauge({
      name: 'assay_trainings',
      help: 'Trainings by status',
      labelNames: ['status'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const t of await sources.trainings()) this.set({ status: t.status }, t.n);
      },
    });
    new Gauge({
      name: 'assay_edge_heartbeat_age_seconds',
      help: 'Seconds since each registered edge server last sent a heartbeat (absent: never)',
      labelNames: ['edge'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const e of await sources.edges()) if (e.ageSeconds !== null) this.set({ edge: e.name }, e.ageSeconds);
      },
    });
  }

  /** Times an async piece of work as a job run of `name`. */
  async timeJob<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const end = this.jobDuration.startTimer({ name });
    try {
      const v = await fn();
      end({ outcome: 'ok' });
      return v;
    } catch (e) {
      end({ outcome: 'failed' });
      this.jobFailures.inc({ name });
      throw e;
    }
  }

  webhook(source: WebhookSource, outcome: IntakeOutcome, n = 1): void {
    if (n > 0) this.webhookEvents.inc({ source, outcome }, n);
  }
}
