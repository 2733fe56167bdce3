// The command table: names and help text only. A command's module (and with it the database,
// Bolt, Agenda, the ML stack…) is imported only when that command runs, so `assay --help` and a
// mistyped command answer at Node's own start-up speed. test/cli/lazy-commands.test.ts checks
// that each entry's text matches its module's.
import type { CliCommand } from './types.js';

export interface CommandEntry {
  name: string;
  summary: string;
  usage: string;
  load(): Promise<CliCommand>;
}

export const commands: CommandEntry[] = [
  { name: 'start', usage: 'assay start [--web | --worker]', summary: 'run the HTTP server and the job worker (or one of them)', load: async () => (await import('./start.js')).startCommand },
  { name: 'migrate', usage: 'assay migrate', summary: 'create or upgrade the database schema', load: async () => (await import('./database.js')).migrateCommand },
  { name: 'seed', usage: 'assay seed [--demo-kits]', summary: 'load the initial AI options (--demo-kits: and the demo kits); idempotent', load: async () => (await import('./database.js')).seedCommand },
  { name: 'edge', usage: 'assay edge add NAME | list | revoke NAME', summary: 'register an edge server (prints its token once), list or revoke edge servers', load: async () => (await import('./edge.js')).edgeCommand },
  { name: 'history', usage: 'assay history <kit> [--at ISO-TIME] [--option NAME]', summary: 'promotion history of a kit: active model per option at a moment, who deployed and approved it', load: async () => (await import('./history.js')).historyCommand },
  { name: 'sync', usage: 'assay sync [--queue]', summary: 'reconcile kits and AI options with Salesforce (--queue: let a worker do it)', load: async () => (await import('./sync.js')).syncCommand },
  { name: 'demo', usage: 'assay demo [--out DIR]', summary: 'run the end-to-end demo locally (no accounts needed) and write a Slack transcript', load: async () => (await import('./demo.js')).demoCommand },
  { name: 'evaluate', usage: 'assay evaluate --model FILE.onnx --dataset COCO.json [--json] [--detections-out FILE]', summary: 'evaluate a detector (COCO mAP) or classifier ONNX on a COCO dataset with images beside it', load: async () => (await import('./evaluate.js')).evaluateCommand },
  { name: 'eval-coco', usage: 'assay eval-coco --gt GT.json --dt DETS.json [--json]', summary: 'COCO bbox evaluation (the 12 standard stats) of a detections file', load: async () => (await import('./eval-coco.js')).evalCocoCommand },
  { name: 'model', usage: 'assay model import --file MODEL.onnx --kit KIT --dataset URL|COCO.json [...]', summary: 'import a detector trained elsewhere (Ultralytics ONNX) as a new model version, evaluated and approved like one trained here', load: async () => (await import('./model.js')).modelCommand },
  { name: 'cancel', usage: 'assay cancel <training-uid>', summary: 'cancel a training (honoured between batches)', load: async () => (await import('./cancel.js')).cancelCommand },
];

export function usage(): string {
  const width = Math.max(...commands.map((c) => c.usage.length));
  return `Assay: train, evaluate, approve and deploy test-kit vision models from Slack.\n\nUsage:\n${commands
    .map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`)
    .join('\n')}\n`;
}
