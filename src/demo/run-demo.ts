// `assay demo`: the whole story of issue #8 against the REAL Assay over real HTTP, on a fresh
// database in a temp folder with no accounts: Salesforce pushes two kits, Bob trains a model
// through the Slack wizard, Assay validates, trains, evaluates and posts the approval card,
// Carl's Approve is refused, Ana approves and deploys, an edge server downloads and verifies the
// model, Bob trains a second version that Ana deploys, and Ana rolls one kit back to the first.
// Then the detector: Bob trains one for the red and green lamps on photos of whole scenes, the card
// shows mAP with a picture of test photos in its thread, Ana deploys it, and the edge runs the
// downloaded ONNX on a photo and reports what it found.
// Each step prints one line; the Slack side is written to transcript.html. The steps themselves are in story.ts.
import fs from 'node:fs';
import path from 'node:path';
import { Dataset, Evaluation, Model, ModelTraining } from '../db/entities/index.js';
import { OPS_CHANNEL, PEOPLE, startHarness, type Harness } from './harness.js';
import { manager, seedOrg, steps, type StepName, type Story, type StoryRows } from './story.js';
import { renderTranscript, type TranscriptStep } from './transcript.js';

export type { StepName } from './story.js';

export interface DemoOptions {
  outDir: string;
  /** Dataset size and training settings (the demo keeps them small; the benchmark does not). */
  crops?: number;
  imageSize?: number;
  epochs?: number;
  /** The detector's story: photos drawn, input size, epochs. */
  detector?: { images?: number; imageSize?: number; epochs?: number };
  /** Stop after this step (the benchmark stops at the approval card). */
  stopAfter?: StepName;
  /** Steps left out (the benchmark needs no refusals); later steps never depend on them. */
  skip?: StepName[];
  databaseUrl?: string;
  logLevel?: string;
  print?: (line: string) => void;
}

export interface StepResult {
  name: StepName;
  ok: boolean;
  detail: string;
  ms: number;
}

export interface DemoResult {
  ok: boolean;
  steps: StepResult[];
  transcriptPath: string;
  /** Milestones (epoch ms) for the headline figure. */
  marks: Record<string, number>;
  /** Row timestamps of the trained model's pipeline, read before shutdown. */
  rows: StoryRows;
  /** A detector's story: what the edge found on a test photo, and the picture shared in the card's thread. */
  detector?: { edgeFound?: Story['edgeFound']; previewFileId?: string; map50?: number; map?: number };
}

export const STEP_NAMES: StepName[] = ['start', ...steps.map((s) => s.name)];

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const results: StepResult[] = [];
  const record = (name: StepName, ok: boolean, detail: string, ms: number) => {
    results.push({ name, ok, detail, ms });
    print(`${ok ? '✓' : '✗'} ${detail}${ms >= 0 ? ` (${(ms / 1000).toFixed(1)} s)` : ''}`);
  };
  const notes = [
    `Everything ran on this machine: a fresh ${options.databaseUrl ? 'PostgreSQL' : 'embedded'} database, a temp data folder, a local stand-in for Slack's Web API, a local Salesforce org and a local dataset server.`,
    'Demo only: ASSAY_ALLOW_HTTP_FETCH and ASSAY_ALLOW_PRIVATE_FETCH are on so Assay may fetch from those 127.0.0.1 http servers. Never set them in production (Assay refuses them with NODE_ENV=production).',
  ];
  print(`Assay demo — ${notes[1]}`);

  let h: Harness | undefined;
  const t0 = Date.now();
  try {
    h = await startHarness({ databaseUrl: options.databaseUrl, logLevel: options.logLevel });
    seedOrg(h);
    record('start', true, `Assay started (web + worker) on a fresh ${h.assay.ctx.db.kind} database in ${h.dataDir}; Slack → ${h.recorder.apiUrl}, Salesforce → ${h.org.url}`, Date.now() - t0);
  } catch (e) {
    record('start', false, `Assay did not start: ${(e as Error).message}`, Date.now() - t0);
  }

  let story: Story | undefined;
  try {
    if (h) {
      story = { h, opts: {
          crops: options.crops ?? 360, imageSize: options.imageSize ?? 32, epochs: options.epochs ?? 4,
          detector: { images: options.detector?.images ?? 40, imageSize: options.detector?.imageSize ?? 128, epochs: options.detector?.epochs ?? 30 },
        }, kits: {}, deploymentIds: [], marks: {}, rows: {} };
      await runSteps(story, options, record, print);
      await readRows(story);
    } else {
      for (const step of steps) record(step.name, false, `${step.name}: not run (Assay did not start)`, -1);
    }
    fs.mkdirSync(options.outDir, { recursive: true });
    const transcriptPath = path.resolve(options.outDir, 'transcript.html');
    const transcriptSteps: TranscriptStep[] = results.map((r) => ({ ok: r.ok, text: r.detail }));
    const names: Record<string, string> = { [OPS_CHANNEL.id]: OPS_CHANNEL.name, ...Object.fromEntries(Object.values(PEOPLE).map((p) => [p.id, p.name])) };
    fs.writeFileSync(transcriptPath, renderTranscript(h?.recorder.entries ?? [], { title: 'Assay demo: from Salesforce kit to edge rollback', steps: transcriptSteps, notes, names, assets: h?.recorder.imageAssets() }));
    const ok = results.every((r) => r.ok);
    print(`${ok ? '✓' : '✗'} ${results.filter((r) => r.ok).length}/${results.length} steps passed; Slack transcript: ${transcriptPath}`);
    const detector = story?.edgeFound || story?.previewFileId || story?.detector?.map50 !== undefined
      ? { edgeFound: story?.edgeFound, previewFileId: story?.previewFileId, map50: story?.detector?.map50, map: story?.detector?.map }
      : undefined;
    return { ok, steps: results, transcriptPath, marks: story?.marks ?? {}, rows: story?.rows ?? {}, ...(detector ? { detector } : {}) };
  } finally {
    await h?.stop();
  }
}

/** Runs the steps in order; a step whose needs did not pass is reported as not run. */
async function runSteps(story: Story, options: DemoOptions, record: (name: StepName, ok: boolean, detail: string, ms: number) => void, print: (line: string) => void) {
  const passed = new Set<StepName>(['start']);
  for (const step of steps) {
    const missing = step.needs.filter((n) => !passed.has(n));
    if (options.skip?.includes(step.name)) {
      print(`– ${step.name}: skipped`);
      passed.add(step.name);
    } else if (missing.length) {
      record(step.name, false, `${step.name}: not run (needs ${missing.join(', ')})`, -1);
    } else {
      const started = Date.now();
      try {
        const detail = await step.run(story);
        passed.add(step.name);
        record(step.name, true, detail, Date.now() - started);
      } catch (e) {
        record(step.name, false, `${step.name}: ${(e as Error).message}`, Date.now() - started);
      }
    }
    if (options.stopAfter === step.name) break;
  }
}

/** The pipeline rows of the story's training, for the headline benchmark's breakdown. */
async function readRows(story: Story): Promise<void> {
  if (!story.trainingUid) return;
  const m = manager(story);
  const training = await m.findOneBy(ModelTraining, { uid: story.trainingUid });
  story.rows.training = training ?? undefined;
  if (training?.datasetId) story.rows.dataset = (await m.findOneBy(Dataset, { id: training.datasetId })) ?? undefined;
  if (story.modelId) {
    story.rows.model = (await m.findOneBy(Model, { id: story.modelId })) ?? undefined;
    story.rows.evaluation = (await m.findOne(Evaluation, { where: { modelId: story.modelId }, order: { createdAt: 'DESC' } })) ?? undefined;
  }
}
