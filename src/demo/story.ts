// The demo's story as an explicit list of steps, each driving the REAL Assay over HTTP the way
// its outside world would (Salesforce, Slack users, an edge server) and checking what changed.
// A step names the steps it needs; when one of those failed it is reported as not run.
import { createHash } from 'node:crypto';
import { Dataset, Evaluation, Model, ModelTraining, TestType } from '../db/entities/index.js';
import { addEdge } from '../services/edge-service.js';
import { modelTaskOf } from '../ml/detect/layout.js';
import { postChangeEvents, postOutbound } from '../testing/salesforce-messages.js';
import { DEMO_LABELS, generateDemoDataset, type DemoDataset } from './dataset.js';
import { generateDetectionDataset } from './detection-dataset.js';
import { PEOPLE, StopWaiting, until, type Harness } from './harness.js';
import { currentMessages, findButton, messageText, type SlackMessage } from './slack-state.js';
import type { InputAnswer } from './slack-user.js';

type Obj = Record<string, unknown>;

export interface StoryRows {
  dataset?: Dataset;
  training?: ModelTraining;
  evaluation?: Evaluation;
  model?: Model;
}

/** Shared state the steps fill in as the story goes. */
export interface Story {
  h: Harness;
  opts: { crops: number; imageSize: number; epochs: number; detector: { images: number; imageSize: number; epochs: number } };
  dataset?: DemoDataset;
  cocoBytes?: Buffer;
  kits: { outbound?: string; cdc?: string };
  viewId?: string;
  trainingUid?: string;
  modelId?: string;
  /** The second version (trained to show a rollback back to the first). */
  v2Id?: string;
  card?: SlackMessage;
  edge?: { name: string; token: string };
  /** The detector's story: its dataset, training, model and card. */
  detector?: { dataset?: DemoDataset; trainingUid?: string; modelId?: string; card?: SlackMessage; map50?: number; map?: number };
  /** What the edge found on a test photo with the downloaded detector. */
  edgeFound?: { photo: string; objects: { className: string; score: number; bbox: number[] }[] };
  /** The detector's preview picture shared in the training thread (Slack file id). */
  previewFileId?: string;
  deploymentIds: string[];
  marks: Record<string, number>;
  rows: StoryRows;
}

const KIT_A = { kitId: 'KIT-9001', name: 'Traffic light panel' };
const KIT_B = { kitId: 'KIT-9002', name: 'Traffic light panel XL' };
const EDGE_NAME = 'edge-lab-1';

// ---- helpers --------------------------------------------------------------------------------

export const manager = (s: Story) => s.h.assay.ctx.db.dataSource.manager;

function viewNow(s: Story): Obj {
  const v = s.h.recorder.currentView(s.viewId!);
  if (!v) throw new Error('the wizard modal is not open');
  return v;
}

async function waitForView(s: Story, callbackId: string, timeoutMs = 10_000): Promise<Obj> {
  return until(`the wizard to show ${callbackId}`, () => {
    const v = viewNow(s);
    return v.callback_id === callbackId && Array.isArray(v.blocks) && (v.blocks as Obj[]).some((b) => b.type === 'input') ? v : undefined;
  }, timeoutMs);
}

function inputBlock(view: Obj, blockId: string | RegExp): Obj {
  const block = ((view.blocks as Obj[]) ?? []).find((b) => b.type === 'input' && (typeof blockId === 'string' ? b.block_id === blockId : blockId.test(String(b.block_id))));
  if (!block) throw new Error(`the modal has no input block ${String(blockId)} (has ${((view.blocks as Obj[]) ?? []).map((b) => b.block_id).filter(Boolean).join(', ')})`);
  return block;
}

function ackError(reply: { status: number; body: Obj; text: string }): string | null {
  if (reply.status !== 200) return `Assay answered HTTP ${reply.status}: ${reply.text.slice(0, 200)}`;
  if (reply.body.response_action === 'errors') return `field errors: ${JSON.stringify(reply.body.errors)}`;
  return null;
}

/** Waits for the kit to land; an event the sync job marked failed or ignored fails at once, with its reason. */
async function kitSynced(s: Story, kitId: string, source: 'outbound' | 'cdc', sfId: string): Promise<TestType> {
  return until(`kit ${kitId} to be synced`, async () => {
    const kit = await manager(s).findOneBy(TestType, { kitId });
    if (kit) return kit;
    const rows: { status: string; error: string | null }[] = await manager(s).query(
      `SELECT status, error FROM salesforce_events WHERE source = $1 AND $2 = ANY(record_ids) ORDER BY received_at DESC LIMIT 1`,
      [source, sfId],
    );
    const ev = rows[0];
    if (ev && (ev.status === 'failed' || ev.status === 'ignored')) throw new StopWaiting(`the sync job marked the ${source} event ${ev.status}: ${(ev.error ?? '').replace(/\s+/g, ' ').slice(0, 300)}`);
    return undefined;
  }, 20_000);
}

async function edgeFetch(s: Story, route: string, init: RequestInit = {}): Promise<Response> {
  const url = route.startsWith('http') ? route : `${s.h.assay.url}/api/v1/edge${route}`;
  return fetch(url, { ...init, headers: { authorization: `Bearer ${s.edge!.token}`, ...(init.headers as Record<string, string> | undefined) } });
}

async function heartbeat(s: Story, body: Obj): Promise<Obj> {
  const r = await edgeFetch(s, '/heartbeat', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await r.json()) as Obj;
  if (r.status !== 200) throw new Error(`heartbeat answered HTTP ${r.status}: ${JSON.stringify(json)}`);
  return json;
}

/** After a click or command that may open a confirmation modal for `user`, submits it as shown. */
async function confirmIfAsked(s: Story, user: 'approver', sinceSeq: number, answered: { body: Obj }): Promise<string | null> {
  // A command answered with text in its ack opened nothing.
  if (answered.body.text || answered.body.blocks) return null;
  const opened = await s.h.recorder.waitFor((c) => c.method === 'views.open', 2500, sinceSeq).catch(() => null);
  if (!opened || opened.response.ok !== true) return null;
  const view = s.h.recorder.currentView(String((opened.response.view as Obj).id))!;
  const reply = await s.h.users[user].submit(view, {}, `confirms "${String(((view.title as Obj) ?? {}).text ?? view.callback_id)}"`);
  const err = ackError(reply);
  if (err) throw new Error(`confirmation refused: ${err}`);
  return String(view.callback_id);
}

/** The first test-split photo of the story's dataset (what the edge looks at). */
function testPhoto(dataset: DemoDataset | undefined): { name: string; bytes: Buffer } {
  const images = dataset?.coco.images ?? [];
  const image = images.find((im) => im.split === 'test') ?? images[0];
  const name = String(image?.file_name ?? '');
  const bytes = dataset?.images.get(name);
  if (!bytes) throw new Error('the dataset has no photo for the edge to look at');
  return { name, bytes };
}

/** An edge server's inference: the downloaded detector on one photo with onnxruntime-node. */
async function edgeDetect(s: Story, model: Buffer): Promise<string> {
  const photo = testPhoto(s.detector?.dataset);
  const { detectObjects } = await import('../ml/detect/infer.js');
  const found = await detectObjects(model, photo.bytes);
  s.edgeFound = { photo: photo.name, objects: found.objects.map((o) => ({ className: o.className, score: o.score, bbox: [...o.bbox] })) };
  const counts = new Map<string, number>();
  for (const o of found.objects) counts.set(o.className, (counts.get(o.className) ?? 0) + 1);
  const said = [...counts].map(([c, n]) => `${n}× ${c}`).join(', ') || 'nothing';
  const best = found.objects[0];
  s.h.recorder.userAction(EDGE_NAME, `runs the downloaded detector on ${photo.name} (${found.width}×${found.height}) with onnxruntime-node: found ${said}${best ? ` (best: ${best.className} ${best.score.toFixed(2)} at [${best.bbox.map((v) => Math.round(v)).join(', ')}])` : ''}`);
  if (found.objects.length === 0) throw new Error(`the edge ran the detector on ${photo.name} and found nothing`);
  return `ran it on test photo ${photo.name} with onnxruntime-node and found ${said}`;
}

// ---- the steps ------------------------------------------------------------------------------

export type StepName =
  | 'start'
  | 'edge.add'
  | 'salesforce.outbound'
  | 'salesforce.cdc'
  | 'dataset.publish'
  | 'wizard.open'
  | 'wizard.kits'
  | 'wizard.options'
  | 'wizard.labels'
  | 'wizard.dataset.refused'
  | 'wizard.submit'
  | 'dataset.validated'
  | 'training.trained'
  | 'evaluation.card'
  | 'approve.refused'
  | 'approve'
  | 'deploy'
  | 'edge.download'
  | 'retrain'
  | 'redeploy'
  | 'rollback'
  | 'detector.train'
  | 'detector.card'
  | 'detector.deploy'
  | 'detector.edge';

export interface Step {
  name: StepName;
  needs: StepName[];
  run(s: Story): Promise<string>;
}

export const steps: Step[] = [
  {
    name: 'edge.add',
    needs: [],
    async run(s) {
      // What `assay edge add edge-lab-1` does, through the same service.
      const { edge, token } = await addEdge(manager(s), EDGE_NAME, { type: 'cli', id: 'demo' });
      s.edge = { name: edge.name, token };
      return `edge server ${edge.name} registered (assay edge add); its bearer token is shown once`;
    },
  },
  {
    name: 'salesforce.outbound',
    needs: [],
    async run(s) {
      const kit = s.h.org.kits.get([...s.h.org.kits.keys()][0]!)!;
      const { body } = s.h.org.outboundMessage(kit);
      s.h.recorder.userAction('Salesforce', `sends an Outbound Message: kit ${kit.Kit_Id__c} "${kit.Name}" changed`);
      const r = await postOutbound(s.h.assay.url, body, s.h.secrets.outboundToken);
      const text = await r.text();
      if (r.status !== 200 || !/<Ack>true<\/Ack>/.test(text)) throw new Error(`Outbound Message answered HTTP ${r.status}: ${text.slice(0, 200)}`);
      const row = await kitSynced(s, kit.Kit_Id__c, 'outbound', kit.Id);
      const links: { n: string }[] = await manager(s).query(`SELECT count(*)::int AS n FROM test_type_ai_options WHERE test_type_id = $1`, [row.id]);
      s.kits.outbound = row.id;
      return `Salesforce Outbound Message acked; kit ${row.kitId} "${row.kitName}" synced from the org with ${links[0]?.n ?? 0} AI options`;
    },
  },
  {
    name: 'salesforce.cdc',
    needs: [],
    async run(s) {
      const kit = s.h.org.kits.get([...s.h.org.kits.keys()][1]!)!;
      const event = s.h.org.changeEvent(kit, 101);
      s.h.recorder.userAction('Salesforce', `relays a change event (CDC CREATE) for kit ${kit.Kit_Id__c} "${kit.Name}"`);
      const r = await postChangeEvents(s.h.assay.url, event, { secret: s.h.secrets.webhookSecret });
      if (r.status !== 200) throw new Error(`change event answered HTTP ${r.status}: ${(await r.text()).slice(0, 200)}`);
      const row = await kitSynced(s, kit.Kit_Id__c, 'cdc', kit.Id);
      s.kits.cdc = row.id;
      return `signed change event (CDC) stored; kit ${row.kitId} "${row.kitName}" created (org queried ${s.h.org.apiUsed} times, ${s.h.org.tokenRequests} JWT login)`;
    },
  },
  {
    name: 'dataset.publish',
    needs: [],
    async run(s) {
      s.dataset = await generateDemoDataset({ seed: 8, crops: s.opts.crops, imageSize: Math.max(64, s.opts.imageSize * 2) });
      s.cocoBytes = s.h.datasets.publish(s.dataset);
      return `synthetic dataset drawn with sharp: ${s.dataset.coco.images.length} photos, ${s.dataset.crops} labelled panels (${DEMO_LABELS.join(', ')}), images served from ${s.h.datasets.base}`;
    },
  },
  {
    name: 'wizard.open',
    needs: [],
    async run(s) {
      const since = s.h.recorder.lastSeq;
      const reply = await s.h.users.requester.command('train');
      if (reply.status !== 200) throw new Error(`/assay train answered HTTP ${reply.status}: ${reply.text.slice(0, 200)}`);
      const opened = await s.h.recorder.waitFor((c) => c.method === 'views.open', 5000, since);
      if (opened.response.ok !== true) throw new Error(`views.open failed: ${String(opened.response.error)}`);
      s.viewId = String((opened.response.view as Obj).id);
      const view = await waitForView(s, 'wizard_kits');
      return `Bob typed /assay train; the wizard modal opened (${String(((view.title as Obj) ?? {}).text)}, step 1: kits)`;
    },
  },
  {
    name: 'wizard.kits',
    needs: ['wizard.open', 'salesforce.outbound', 'salesforce.cdc'],
    async run(s) {
      const view = viewNow(s);
      const block = inputBlock(view, 'kits');
      const element = block.element as Obj;
      const known: Record<string, { text: Obj; value: string }[]> = {};
      if (String(element.type).includes('external')) known.kits = await s.h.users.requester.suggest(view, 'kits', String(element.action_id), 'KIT-90');
      const reply = await s.h.users.requester.submit(view, { kits: [KIT_A.kitId, KIT_B.kitId] }, `picks kits ${KIT_A.kitId} and ${KIT_B.kitId} and presses Next`, known);
      const err = ackError(reply);
      if (err) throw new Error(err);
      await waitForView(s, 'wizard_options');
      return `picked the two synced kits; step 2 lists their selectable AI options`;
    },
  },
  {
    name: 'wizard.options',
    needs: ['wizard.kits'],
    async run(s) {
      const reply = await s.h.users.requester.submit(viewNow(s), { options: [...DEMO_LABELS] }, `ticks ${DEMO_LABELS.join(', ')} and presses Next`);
      const err = ackError(reply);
      if (err) throw new Error(err);
      const view = await waitForView(s, 'wizard_labels');
      const asks = ((view.blocks as Obj[]) ?? []).filter((b) => String(b.block_id).startsWith('label:')).map((b) => String(((b.label as Obj) ?? {}).text));
      return `options picked; step 3 asks for the missing label name (${asks.join('; ')})`;
    },
  },
  {
    name: 'wizard.labels',
    needs: ['wizard.options'],
    async run(s) {
      const view = viewNow(s);
      const block = inputBlock(view, /^label:/);
      const reply = await s.h.users.requester.submit(view, { [String(block.block_id)]: 'yellow_light' }, 'names the label "yellow_light" and presses Next');
      const err = ackError(reply);
      if (err) throw new Error(err);
      await waitForView(s, 'wizard_dataset');
      return `label name saved for everyone; step 4 shows dataset name, source and hyperparameters`;
    },
  },
  {
    name: 'wizard.dataset.refused',
    needs: ['wizard.labels', 'dataset.publish'],
    async run(s) {
      const reply = await s.h.users.requester.submit(viewNow(s), { dataset_url: `${s.h.datasets.base}/coco.json` }, 'pastes a plain http:// dataset link and presses Train');
      if (reply.body.response_action !== 'errors') throw new Error(`expected field errors, got ${reply.status} ${reply.text.slice(0, 200)}`);
      const errors = reply.body.errors as Record<string, string>;
      const trainings = await manager(s).count(ModelTraining);
      if (trainings !== 0) throw new Error(`a refused submit created ${trainings} training(s)`);
      return `a plain http:// link is refused in the modal ("${Object.values(errors)[0]}"); nothing was created`;
    },
  },
  {
    name: 'wizard.submit',
    needs: ['wizard.labels', 'dataset.publish'],
    async run(s) {
      const file = s.h.recorder.addFile('traffic-panels.coco.json', s.cocoBytes!);
      const answers: Record<string, InputAnswer> = {
        dataset_file: { files: [file] },
        dataset_url: null,
        // The demo's story is still the crop classifier (the wizard now offers a detector first).
        task: 'classify',
        hp_epochs: String(s.opts.epochs),
        hp_image_size: String(s.opts.imageSize),
        hp_batch_size: '32',
        hp_learning_rate: '0.003',
      };
      s.marks.lastSubmit = Date.now();
      const reply = await s.h.users.requester.submit(viewNow(s), answers, `uploads traffic-panels.coco.json (${(s.cocoBytes!.length / 1024).toFixed(0)} KB), sets ${s.opts.epochs} epochs at ${s.opts.imageSize}×${s.opts.imageSize} and presses Train`);
      const err = ackError(reply);
      if (err) throw new Error(err);
      const training = await until('the training row', () => manager(s).findOne(ModelTraining, { where: {}, order: { createdAt: 'DESC' } }), 5000).catch((e: Error) => {
        throw new Error(`${e.message}; Assay answered the submit with HTTP ${reply.status} ${reply.text.slice(0, 300) || '(empty body: Slack would close the modal)'}`);
      });
      s.trainingUid = training.uid;
      s.h.recorder.userAction('Assay workers', 'validate the dataset, train the model, export it to ONNX and evaluate it (nobody clicks anything)');
      return `training ${training.uid.slice(0, 8)} queued (${training.mode}, ${training.totalEpochs} epochs) from the uploaded dataset`;
    },
  },
  {
    name: 'dataset.validated',
    needs: ['wizard.submit'],
    async run(s) {
      const training = await manager(s).findOneByOrFail(ModelTraining, { uid: s.trainingUid! });
      const ds = await until('dataset validation', async () => {
        const d = await manager(s).findOneBy(Dataset, { id: training.datasetId! });
        return d && (d.status === 'valid' || d.status === 'invalid') ? d : undefined;
      }, 90_000);
      if (ds.status !== 'valid') throw new Error(`dataset ${ds.status}: ${JSON.stringify(ds.validationReport).slice(0, 300)}`);
      const report = await until('the validation report in Slack', () => currentMessages(s.h.recorder).find((m) => /validation/i.test(messageText(m))), 10_000);
      return `dataset fetched from Slack and its images from the dataset server, validated in a job (images per split: ${Object.entries(ds.splitCounts ?? {}).map(([k, v]) => `${k} ${String(v)}`).join(', ')}); report posted${report.threadTs ? ' in the thread' : ''}`;
    },
  },
  {
    name: 'training.trained',
    needs: ['dataset.validated'],
    async run(s) {
      const t = await until('training to finish', async () => {
        const row = await manager(s).findOneByOrFail(ModelTraining, { uid: s.trainingUid! });
        return ['trained', 'failed', 'cancelled'].includes(row.status) ? row : undefined;
      }, 10 * 60_000, 300);
      if (t.status !== 'trained') throw new Error(`training ${t.status}: ${t.trainingError ?? ''}`);
      s.modelId = t.modelId!;
      const last = t.metrics[t.metrics.length - 1] as unknown as Obj | undefined;
      const edits = s.h.recorder.calls.filter((c) => c.method === 'chat.update').length;
      return `trained ${t.totalEpochs} epochs in ${t.trainingDuration ?? '?'} s (accuracy ${Number(last?.accuracy ?? NaN).toFixed(3)}, val ${Number(last?.valAccuracy ?? NaN).toFixed(3)}); ONNX exported; ${edits} live progress edits`;
    },
  },
  {
    name: 'evaluation.card',
    needs: ['training.trained'],
    async run(s) {
      const ev = await until('evaluation', async () => {
        const e = await manager(s).findOne(Evaluation, { where: { modelId: s.modelId! }, order: { createdAt: 'DESC' } });
        return e && (e.status === 'completed' || e.status === 'failed') ? e : undefined;
      }, 120_000);
      if (ev.status !== 'completed') throw new Error(`evaluation failed: ${ev.error ?? ''}`);
      s.card = await until('the approval card (a message with an Approve button)', () => currentMessages(s.h.recorder).find((m) => findButton(m, /^approve$/i)?.value === s.modelId), 20_000);
      s.marks.approvalCard = s.card.at;
      const m = ev.metrics ?? {};
      const f1 = m.macroF1 ?? (m.macro as Obj | undefined)?.f1;
      return `ONNX Runtime evaluation on the test split: accuracy ${Number(m.accuracy).toFixed(3)}${f1 !== undefined ? `, macro F1 ${Number(f1).toFixed(3)}` : ''}; approval card posted with Approve / Reject`;
    },
  },
  {
    name: 'approve.refused',
    needs: ['evaluation.card'],
    async run(s) {
      const since = s.h.recorder.lastSeq;
      const reply = await s.h.users.bystander.clickInMessage(s.card!, findButton(s.card!, /^approve$/i)!.actionId, 'clicks Approve (Carl is not an approver)');
      if (reply.status !== 200) throw new Error(`the click answered HTTP ${reply.status}`);
      const told = await s.h.recorder
        .waitFor((c) => (c.method === 'chat.postEphemeral' && c.args.user === PEOPLE.bystander.id) || c.method === 'response_url' || (c.method === 'ack' && !!c.args.text), 5000, since)
        .catch(() => null);
      const model = await manager(s).findOneByOrFail(Model, { id: s.modelId! });
      if (model.status !== 'pending_approval') throw new Error(`the model is ${model.status} after a non-approver's click`);
      if (!told) throw new Error('Carl was not told why nothing happened');
      return `Carl's Approve was refused and he was told why ("${String(told.args.text ?? '').slice(0, 80)}"); the model stays pending_approval`;
    },
  },
  {
    name: 'approve',
    needs: ['evaluation.card'],
    async run(s) {
      await s.h.users.approver.clickInMessage(s.card!, findButton(s.card!, /^approve$/i)!.actionId, 'clicks Approve');
      const model = await until('the model to be approved', async () => {
        const m = await manager(s).findOneByOrFail(Model, { id: s.modelId! });
        return m.status === 'approved' ? m : undefined;
      }, 10_000);
      const card = await until('the card to show the decision', () => currentMessages(s.h.recorder).find((m) => m.ts === s.card!.ts && !findButton(m, /^approve$/i)), 5000);
      s.card = card;
      return `Ana approved ${model.modelName}; the card now shows who approved and offers Deploy`;
    },
  },
  {
    name: 'deploy',
    needs: ['approve', 'edge.add'],
    async run(s) {
      const since = s.h.recorder.lastSeq;
      const deploy = findButton(s.card!, /^deploy$/i);
      const model0 = await manager(s).findOneByOrFail(Model, { id: s.modelId! });
      const reply = deploy ? await s.h.users.approver.clickInMessage(s.card!, deploy.actionId, 'clicks Deploy') : await s.h.users.approver.command(`deploy ${model0.modelName}`);
      const confirmed = await confirmIfAsked(s, 'approver', since, reply);
      const model = await until('the model to be deployed', async () => {
        const m = await manager(s).findOneByOrFail(Model, { id: s.modelId! });
        return m.status === 'deployed' ? m : undefined;
      }, 15_000);
      const rows: { id: string }[] = await manager(s).query(`SELECT id FROM deployments WHERE model_id = $1`, [model.id]);
      s.deploymentIds = rows.map((r) => r.id);
      if (rows.length === 0) throw new Error('no deployment was created for the edge server');
      return `Ana deployed ${model.modelName}${confirmed ? ` (confirmed in ${confirmed})` : ''}: active for both kits, ${rows.length} deployment(s) for ${EDGE_NAME}`;
    },
  },
  {
    name: 'edge.download',
    needs: ['deploy'],
    async run(s) {
      s.h.recorder.userAction(EDGE_NAME, 'asks for its assignments, downloads the model through the signed URL, checks the sha256 and reports progress');
      const r = await edgeFetch(s, '/assignments');
      if (r.status !== 200) throw new Error(`assignments answered HTTP ${r.status}`);
      const body = (await r.json()) as { assignments: { modelId: string; kitId: string; sha256: string; deployment: { id: string } | null }[] };
      const mine = body.assignments.filter((a) => a.modelId === s.modelId);
      if (mine.length === 0) throw new Error(`the edge sees no assignment of the model (${body.assignments.length} in all)`);
      const signed = (await (await edgeFetch(s, `/models/${s.modelId}/download-url`)).json()) as { url: string; sha256: string; size: number };
      const dl = await edgeFetch(s, signed.url);
      if (dl.status !== 200) throw new Error(`download answered HTTP ${dl.status}`);
      const bytes = Buffer.from(await dl.arrayBuffer());
      const sha = createHash('sha256').update(bytes).digest('hex');
      if (sha !== signed.sha256 || sha !== mine[0]!.sha256) throw new Error(`sha256 mismatch: got ${sha}, expected ${signed.sha256}`);
      const tampered = await edgeFetch(s, signed.url.replace(/sig=([0-9a-f])/, (_m, c: string) => `sig=${c === '0' ? '1' : '0'}`));
      if (tampered.status !== 403) throw new Error(`a tampered signed URL answered HTTP ${tampered.status}, not 403`);
      const model = await manager(s).findOneByOrFail(Model, { id: s.modelId! });
      for (const status of ['downloading', 'installing', 'completed'] as const) {
        await heartbeat(s, { models: status === 'completed' ? [{ modelId: model.id, version: model.modelVersion, modelName: model.modelName }] : [], deployments: s.deploymentIds.map((id) => ({ deploymentId: id, status })) });
      }
      const done: { status: string }[] = await manager(s).query(`SELECT status FROM deployments WHERE id = ANY($1::uuid[])`, [s.deploymentIds]);
      if (!done.every((d) => d.status === 'completed')) throw new Error(`deployments are ${done.map((d) => d.status).join(', ')} after the heartbeats`);
      return `edge ${EDGE_NAME} saw ${mine.length} kit options on the model, downloaded ${bytes.length} bytes through the signed URL, sha256 verified (a tampered link got 403), heartbeat → deployment completed`;
    },
  },
  {
    name: 'retrain',
    needs: ['edge.download'],
    async run(s) {
      // Bob trains a second version of the same options: the wizard asks what to do with the model.
      const since = s.h.recorder.lastSeq;
      await s.h.users.requester.command('train', 'types /assay train again, for a second version');
      const opened = await s.h.recorder.waitFor((c) => c.method === 'views.open', 5000, since);
      s.viewId = String((opened.response.view as Obj).id);
      let reply = await s.h.users.requester.submit(await waitForView(s, 'wizard_kits'), { kits: [KIT_A.kitId, KIT_B.kitId] }, 'picks the same two kits');
      if (ackError(reply)) throw new Error(ackError(reply)!);
      reply = await s.h.users.requester.submit(await waitForView(s, 'wizard_options'), { options: [...DEMO_LABELS] }, 'ticks the same options (all have label names now)');
      if (ackError(reply)) throw new Error(ackError(reply)!);
      const view = await waitForView(s, 'wizard_dataset');
      const file = s.h.recorder.addFile('traffic-panels-v2.coco.json', s.cocoBytes!);
      const answers: Record<string, InputAnswer> = { dataset_file: { files: [file] }, dataset_url: null, version_choice: 'new_version', task: 'classify', hp_epochs: String(s.opts.epochs), hp_image_size: String(s.opts.imageSize), hp_batch_size: '32', hp_learning_rate: '0.003' };
      reply = await s.h.users.requester.submit(view, answers, 'chooses "New version" (fine-tune from the deployed model) and presses Train');
      if (ackError(reply)) throw new Error(ackError(reply)!);
      const first = s.trainingUid;
      const training = await until('the second training row', async () => {
        const t = await manager(s).findOne(ModelTraining, { where: {}, order: { createdAt: 'DESC' } });
        return t && t.uid !== first ? t : undefined;
      }, 5000);
      const t = await until('the second training to finish', async () => {
        const row = await manager(s).findOneByOrFail(ModelTraining, { uid: training.uid });
        return ['trained', 'failed', 'cancelled'].includes(row.status) ? row : undefined;
      }, 10 * 60_000, 300);
      if (t.status !== 'trained') throw new Error(`second training ${t.status}: ${t.trainingError ?? ''}`);
      s.v2Id = t.modelId!;
      return `Bob trained a second version (${t.mode}, fine-tuned from the deployed model) on the same kits and options`;
    },
  },
  {
    name: 'redeploy',
    needs: ['retrain'],
    async run(s) {
      let card = await until('the second approval card', () => currentMessages(s.h.recorder).find((m) => findButton(m, /^approve$/i)?.value === s.v2Id), 120_000);
      await s.h.users.approver.clickInMessage(card, findButton(card, /^approve$/i)!.actionId, 'clicks Approve on the second version');
      card = await until('Deploy on the second card', () => currentMessages(s.h.recorder).find((m) => findButton(m, /^deploy$/i)?.value === s.v2Id), 10_000);
      const since = s.h.recorder.lastSeq;
      const reply = await s.h.users.approver.clickInMessage(card, findButton(card, /^deploy$/i)!.actionId, 'clicks Deploy on the second version');
      await confirmIfAsked(s, 'approver', since, reply);
      const v2 = await until('the second version to be deployed', async () => {
        const m = await manager(s).findOneByOrFail(Model, { id: s.v2Id! });
        return m.status === 'deployed' ? m : undefined;
      }, 15_000);
      return `Ana approved and deployed ${v2.modelName}: both kits now run it; the first version is kept for rollback`;
    },
  },
  {
    name: 'rollback',
    needs: ['redeploy'],
    async run(s) {
      const since = s.h.recorder.lastSeq;
      const reply = await s.h.users.approver.command(`rollback ${KIT_A.kitId}`, `types /assay rollback ${KIT_A.kitId}`);
      const confirmed = await confirmIfAsked(s, 'approver', since, reply);
      if (!confirmed) throw new Error(`no rollback confirmation opened: ${JSON.stringify(reply.body).slice(0, 300)}`);
      const v2 = await until('the second version to leave kit A', async () => {
        const m = await manager(s).findOneByOrFail(Model, { id: s.v2Id! });
        const active: { model_id: string }[] = await manager(s).query(`SELECT DISTINCT model_id FROM model_test_types WHERE test_type_id = $1 AND is_active`, [s.kits.outbound]);
        return active.length === 1 && active[0]!.model_id === s.modelId ? m : undefined;
      }, 15_000);
      const r = (await (await edgeFetch(s, '/assignments')).json()) as { assignments: { modelId: string; kitId: string }[] };
      const forA = [...new Set(r.assignments.filter((a) => a.kitId === KIT_A.kitId).map((a) => a.modelId))];
      if (forA.length !== 1 || forA[0] !== s.modelId) throw new Error(`the edge gets ${forA.join(', ')} for ${KIT_A.kitId}, not the first version`);
      const said = await s.h.recorder.waitFor((c) => c.seq > since && c.method === 'chat.postEphemeral' && /Rolled back kit/.test(String(c.args.text ?? '')), 5000, since).catch(() => null);
      if (!said) throw new Error('Ana was not told what the rollback did');
      return `Ana confirmed the rollback of ${KIT_A.kitId} (each option: ${v2.modelName} → the first version); the edge gets the first version for ${KIT_A.kitId} again; ${v2.modelName} still serves ${KIT_B.kitId} and stays ${v2.status}; Slack says so`;
    },
  },

  // ---- the detector: the same road for a model that finds the lamps in the whole photo ----
  {
    name: 'detector.train',
    needs: ['salesforce.outbound', 'salesforce.cdc'],
    async run(s) {
      const options = ['red_light', 'green_light'];
      const dataset = await generateDetectionDataset({ seed: 5, images: s.opts.detector.images, width: 160, height: 120, labels: options });
      s.detector = { dataset };
      const cocoBytes = s.h.datasets.publish(dataset);
      const since = s.h.recorder.lastSeq;
      await s.h.users.requester.command('train', 'types /assay train for a detector of the red and green lamps');
      const opened = await s.h.recorder.waitFor((c) => c.method === 'views.open', 5000, since);
      s.viewId = String((opened.response.view as Obj).id);
      let reply = await s.h.users.requester.submit(await waitForView(s, 'wizard_kits'), { kits: [KIT_A.kitId, KIT_B.kitId] }, 'picks the two kits');
      if (ackError(reply)) throw new Error(ackError(reply)!);
      reply = await s.h.users.requester.submit(await waitForView(s, 'wizard_options'), { options }, `ticks ${options.join(' and ')} (a new lineage)`);
      if (ackError(reply)) throw new Error(ackError(reply)!);
      const view = await waitForView(s, 'wizard_dataset');
      const file = s.h.recorder.addFile('lamp-scenes.coco.json', cocoBytes);
      const before = new Set((await manager(s).find(ModelTraining)).map((t) => t.uid));
      const { epochs, imageSize } = s.opts.detector;
      const answers: Record<string, InputAnswer> = { dataset_file: { files: [file] }, dataset_url: null, task: 'detect', hp_epochs: String(epochs), hp_image_size: String(imageSize), hp_batch_size: '8', hp_learning_rate: '0.006' };
      reply = await s.h.users.requester.submit(view, answers, `uploads lamp-scenes.coco.json (${dataset.coco.images.length} photos, ${dataset.crops} boxes), picks Detector, ${epochs} epochs at ${imageSize}×${imageSize}, and presses Train`);
      if (ackError(reply)) throw new Error(ackError(reply)!);
      s.marks.detectorSubmit = Date.now();
      const training = await until('the detector training row', async () => {
        const t = await manager(s).findOne(ModelTraining, { where: {}, order: { createdAt: 'DESC' } });
        return t && !before.has(t.uid) ? t : undefined;
      }, 5000);
      s.detector.trainingUid = training.uid;
      const t = await until('the detector training to finish', async () => {
        const row = await manager(s).findOneByOrFail(ModelTraining, { uid: training.uid });
        return ['trained', 'failed', 'cancelled'].includes(row.status) ? row : undefined;
      }, 10 * 60_000, 300);
      if (t.status !== 'trained') throw new Error(`detector training ${t.status}: ${t.trainingError ?? ''}`);
      s.detector.modelId = t.modelId!;
      return `Bob trained a detector of ${options.join(' and ')} (${t.totalEpochs} epochs in ${t.trainingDuration ?? '?'} s) on ${dataset.coco.images.length} photos with ${dataset.crops} boxes; exported to ONNX in the Ultralytics layout`;
    },
  },
  {
    name: 'detector.card',
    needs: ['detector.train'],
    async run(s) {
      const d = s.detector!;
      const ev = await until('the detector evaluation', async () => {
        const e = await manager(s).findOne(Evaluation, { where: { modelId: d.modelId! }, order: { createdAt: 'DESC' } });
        return e && (e.status === 'completed' || e.status === 'failed') ? e : undefined;
      }, 120_000);
      if (ev.status !== 'completed') throw new Error(`detector evaluation failed: ${ev.error ?? ''}`);
      d.card = await until('the detector approval card', () => currentMessages(s.h.recorder).find((m) => findButton(m, /^approve$/i)?.value === d.modelId && /mAP50-95/.test(messageText(m))), 20_000);
      s.marks.detectorCard = d.card.at;
      // The picture of test photos goes up in the card's thread.
      const shared = await s.h.recorder.waitFor((c) => c.method === 'files.completeUploadExternal' && c.response.ok === true && c.args.thread_ts === d.card!.ts, 30_000);
      s.previewFileId = String(((shared.response.files as Obj[] | undefined)?.[0] ?? {}).id ?? '');
      const model = await manager(s).findOneByOrFail(Model, { id: d.modelId! });
      const m = (model.metrics ?? {}) as Obj;
      d.map50 = Number(m.AP50);
      d.map = Number(m.AP);
      return `ONNX Runtime evaluation of the detector on ${String(m.images)} test photos: mAP50-95 ${Number(m.AP).toFixed(3)}, mAP50 ${Number(m.AP50).toFixed(3)}; the card shows mAP and AP per lamp, and a picture of test photos (true boxes green, predicted red) is in its thread`;
    },
  },
  {
    name: 'detector.deploy',
    needs: ['detector.card', 'edge.add'],
    async run(s) {
      const d = s.detector!;
      await s.h.users.approver.clickInMessage(d.card!, findButton(d.card!, /^approve$/i)!.actionId, 'looks at the picture and clicks Approve on the detector');
      const card = await until('Deploy on the detector card', () => currentMessages(s.h.recorder).find((m) => findButton(m, /^deploy$/i)?.value === d.modelId), 10_000);
      const since = s.h.recorder.lastSeq;
      const reply = await s.h.users.approver.clickInMessage(card, findButton(card, /^deploy$/i)!.actionId, 'clicks Deploy on the detector');
      await confirmIfAsked(s, 'approver', since, reply);
      const model = await until('the detector to be deployed', async () => {
        const m = await manager(s).findOneByOrFail(Model, { id: d.modelId! });
        return m.status === 'deployed' ? m : undefined;
      }, 15_000);
      return `Ana approved and deployed ${model.modelName}: the red and green lamp options of both kits now run the detector`;
    },
  },
  {
    name: 'detector.edge',
    needs: ['detector.deploy'],
    async run(s) {
      const d = s.detector!;
      s.h.recorder.userAction(EDGE_NAME, 'asks for its assignments and downloads the detector through the signed URL');
      const r = await edgeFetch(s, '/assignments');
      const body = (await r.json()) as { assignments: { modelId: string; sha256: string; task?: string }[] };
      const mine = body.assignments.filter((a) => a.modelId === d.modelId);
      if (mine.length === 0) throw new Error('the edge sees no assignment of the detector');
      const signed = (await (await edgeFetch(s, `/models/${d.modelId}/download-url`)).json()) as { url: string; sha256: string };
      const bytes = Buffer.from(await (await edgeFetch(s, signed.url)).arrayBuffer());
      const sha = createHash('sha256').update(bytes).digest('hex');
      if (sha !== signed.sha256 || sha !== mine[0]!.sha256) throw new Error(`sha256 mismatch: got ${sha}, expected ${signed.sha256}`);
      if (modelTaskOf(bytes) !== 'detect') throw new Error('the downloaded model is not a detector');
      const ran = await edgeDetect(s, bytes);
      return `edge ${EDGE_NAME} downloaded the detector (${bytes.length} bytes, sha256 verified, task ${mine[0]!.task ?? 'detect'}) and ${ran}`;
    },
  },
];

/** The org's records before the story starts: three lamp options (yellow has no label yet) and two kits. */
export function seedOrg(h: Harness): void {
  const lamps = DEMO_LABELS.map((key) => h.org.addOption(key, { Label_Name__c: key === 'yellow_light' ? null : key, Name: key.replace('_', ' ') }));
  const lighting = h.org.addOption('proper_lighting', { Selectable__c: false, Name: 'proper lighting' });
  h.org.addKit(KIT_A.kitId, KIT_A.name, [...lamps, lighting]);
  h.org.addKit(KIT_B.kitId, KIT_B.name, lamps);
}

