// "/assay import" submit. Before the ack (Slack waits 3 s): the form, files.info for the uploads,
// and — when Slack serves it quickly — the model file itself, so a non-conforming file is a field
// error under "Model file". After the ack: a channel message, the import (dataset checks, rows,
// evaluation queued), then that message becomes the model's card (evaluation → approval) and a
// thread reply says evaluation is running — or the reason the import was refused.
import type { App, ViewOutput } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { FIELD_LIMITS, ValidationError, formatMegabytes } from '../../../domain/index.js';
import { slackUser } from '../../../services/audit.js';
import { UPLOAD_MAX_BYTES } from '../../../services/dataset-service.js';
import { checkModelFile, downloadSlackModel, modelImportLimit, type ImportDatasetSource } from '../../../services/model-import-service.js';
import { IMPORT_CALLBACK, importAcceptedNote, importCheckingMessage, importRefusedMessage, importStartedView, importView } from '../../../../views/model-import.js';
import { explain, type SlackDeps } from '../deps.js';

type Values = ViewOutput['state']['values'];
type Ack = (response?: Record<string, unknown>) => Promise<void>;

/** Of the 3 s Slack allows: files.info first, then whatever is left of this for the download. */
const FILES_INFO_BUDGET_MS = 1500;
const DOWNLOAD_BUDGET_MS = 1200;

class FieldErrors extends Error {
  constructor(readonly errors: Record<string, string>) {
    super(Object.values(errors).join('; '));
  }
}

const selected = (values: Values, block: string): string[] => {
  const a = values[block] ? Object.values(values[block]!)[0] : undefined;
  return (a?.selected_options ?? []).map((o) => o.value);
};
const text = (values: Values, block: string): string | undefined => {
  const a = values[block] ? Object.values(values[block]!)[0] : undefined;
  return a?.value?.trim() || undefined;
};
const fileIds = (values: Values, block: string): string[] => ((values[block]?.file as { files?: { id: string }[] } | undefined)?.files ?? []).map((f) => f.id);

function within<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const slow = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([p, slow]).finally(() => clearTimeout(timer));
}

interface SlackFile {
  name: string;
  size: number;
  url: string;
}

/** files.info is the authority on an upload (the submitted payload is the client's word). */
async function describe(client: WebClient, id: string, block: string): Promise<SlackFile> {
  const r = await within(client.files.info({ file: id }), FILES_INFO_BUDGET_MS, () => new FieldErrors({ [block]: 'Slack took too long to describe this file: press Import again' }));
  const f = r.file;
  if (!f?.url_private_download) throw new FieldErrors({ [block]: 'Slack could not give us that file: upload it again' });
  return { name: f.name ?? 'model.onnx', size: Number(f.size ?? 0), url: f.url_private_download };
}

export async function openImportModal(deps: SlackDeps, input: { triggerId: string; channel: string | null }): Promise<void> {
  const { kits, options } = await deps.ctx.services.imports.formChoices();
  const limit = modelImportLimit({ config: deps.ctx.config });
  await deps.client.views.open({
    trigger_id: input.triggerId,
    view: importView({ channel: input.channel, kits, options, limits: { url: FIELD_LIMITS.url, lineageName: FIELD_LIMITS.lineageName, modelMb: Math.floor(limit / 1024 / 1024) } }),
  });
}

export function registerImportView(app: App, deps: SlackDeps): void {
  const { ctx } = deps;

  app.view(IMPORT_CALLBACK, async ({ ack, body, view }) => {
    const v = view.state.values;
    const user = body.user.id;
    const channel = view.private_metadata || null;
    const limit = modelImportLimit({ config: ctx.config });
    let model: SlackFile;
    let dataset: ImportDatasetSource;
    let download: Promise<Buffer>;
    try {
      const errors: Record<string, string> = {};
      if (selected(v, 'kits').length === 0) errors.kits = 'Pick at least one kit';
      const models = fileIds(v, 'model_file');
      if (models.length !== 1) errors.model_file = 'Upload one .onnx file';
      const datasets = fileIds(v, 'dataset_file');
      const url = text(v, 'dataset_url');
      if (datasets.length + (url ? 1 : 0) !== 1) errors[url ? 'dataset_url' : 'dataset_file'] = 'Give the dataset as one uploaded COCO JSON file or as a URL, not both';
      if (Object.keys(errors).length) throw new FieldErrors(errors);
      model = await describe(deps.client, models[0]!, 'model_file');
      if (!/\.onnx$/i.test(model.name)) throw new FieldErrors({ model_file: `${model.name} is not an .onnx file` });
      if (model.size > limit) throw new FieldErrors({ model_file: `The model file is ${formatMegabytes(model.size)}; the limit is ${formatMegabytes(limit)}` });
      if (url) dataset = { kind: 'url', url };
      else {
        const d = await describe(deps.client, datasets[0]!, 'dataset_file');
        if (d.size > UPLOAD_MAX_BYTES) throw new FieldErrors({ dataset_file: `${formatMegabytes(d.size)}; Slack uploads stop at 10 MB: give a URL instead` });
        dataset = { kind: 'upload', url: d.url, name: d.name };
      }
      download = downloadSlackModel(model.url, { config: ctx.config });
      download.catch(() => undefined); // awaited below or after the ack
      // Usually the file arrives well within the budget: then a bad one is a field error here.
      const bytes = await within(download, DOWNLOAD_BUDGET_MS, () => new Error('slow')).catch((e: unknown) => {
        if (e instanceof ValidationError) throw e;
        return null;
      });
      if (bytes) checkModelFile(bytes, limit);
    } catch (err) {
      if (err instanceof FieldErrors) return void (await (ack as Ack)({ response_action: 'errors', errors: err.errors }));
      const block = err instanceof ValidationError && ['model_file', 'file'].includes(err.field ?? '') ? 'model_file' : 'kits';
      return void (await (ack as Ack)({ response_action: 'errors', errors: { [block]: explain(deps, err, 'checking the import') } }));
    }
    await (ack as Ack)({ response_action: 'update', view: importStartedView({ fileName: model.name, channel }) });

    const where = channel ?? user;
    let home: { channel: string; ts: string } | null = null;
    try {
      const msg = importCheckingMessage({ fileName: model.name, user });
      const r = await deps.client.chat.postMessage({ channel: where, text: msg.text, blocks: msg.blocks, unfurl_links: false });
      if (r.channel && r.ts) home = { channel: r.channel, ts: r.ts };
    } catch (err) {
      ctx.logger.warn({ err: (err as Error).message }, 'could not post the import message');
    }
    try {
      const bytes = await download;
      const r = await ctx.services.imports.importModel(
        { file: { bytes, name: model.name }, kitIds: selected(v, 'kits'), optionUids: selected(v, 'options').length ? selected(v, 'options') : undefined, lineageName: text(v, 'lineage_name'), dataset, requestedBy: user, slackChannel: channel },
        slackUser(user),
      );
      if (home) {
        // The import's message becomes the model's home: evaluation and approval update it.
        await ctx.services.trainings.setHomeMessage(r.training.uid, home.channel, home.ts);
        await deps.messages.refresh(r.training.uid);
        const note = importAcceptedNote({ modelName: r.model.modelName, classes: r.detector.names, testImages: Number((r.dataset.splitCounts as Record<string, number>).test ?? 0), warnings: r.warnings });
        await deps.client.chat.postMessage({ channel: home.channel, thread_ts: home.ts, text: note.text, blocks: note.blocks, unfurl_links: false });
      }
    } catch (err) {
      const refused = importRefusedMessage({ fileName: model.name, reason: explain(deps, err, 'importing the model') });
      try {
        if (home) {
          await deps.client.chat.update({ channel: home.channel, ts: home.ts, text: refused.text, blocks: refused.blocks });
          await deps.client.chat.postMessage({ channel: home.channel, thread_ts: home.ts, text: refused.text, blocks: refused.blocks, unfurl_links: false });
        } else await deps.client.chat.postMessage({ channel: user, text: refused.text, blocks: refused.blocks });
      } catch (e) {
        ctx.logger.warn({ err: (e as Error).message }, 'could not tell the user why the import was refused');
      }
    }
  });
}
