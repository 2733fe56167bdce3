// The whole demo, once: real Assay (web + worker), real Bolt over signed HTTP, real jobs,
// training, ONNX evaluation, deployment and the edge API, with local stand-ins for Slack,
// Salesforce and the dataset host. Every step must pass and the transcript must show the card.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runDemo, STEP_NAMES, type DemoResult } from '../../src/demo/run-demo.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let outDir: string;
let result: DemoResult;
let db: TestDatabase | undefined;
const lines: string[] = [];

beforeAll(async () => {
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'assay-demo-out-'));
  let databaseUrl: string | undefined;
  if (process.env.DATABASE_URL) {
    // A fresh PostgreSQL database for the demo's Assay (it is dropped afterwards).
    db = await createTestDatabase();
    databaseUrl = db.url;
    await db.dataSource.destroy();
    await db.pool.end();
  }
  result = await runDemo({ outDir, databaseUrl, print: (l) => lines.push(l) });
}, 480_000);

afterAll(async () => {
  await db?.close().catch(() => undefined);
  fs.rmSync(outDir, { recursive: true, force: true });
});

describe('assay demo', () => {
  it('passes every step of the story, each with one printed line', () => {
    const failed = result.steps.filter((s) => !s.ok).map((s) => s.detail);
    expect(failed).toEqual([]);
    expect(result.steps.map((s) => s.name)).toEqual(STEP_NAMES);
    expect(result.ok).toBe(true);
    // One ✓ line per step, then the summary line pointing at the transcript.
    expect(lines.filter((l) => l.startsWith('✓ '))).toHaveLength(STEP_NAMES.length + 1);
    expect(lines[lines.length - 1]).toContain(result.transcriptPath);
  });

  it('writes one self-contained transcript with the approval card, the refusal and the wizard', () => {
    const html = fs.readFileSync(result.transcriptPath, 'utf8');
    expect(path.dirname(result.transcriptPath)).toBe(path.resolve(outDir));
    // Named checks, so a failure says which part is missing without dumping the page.
    const has = (re: RegExp | string) => (typeof re === 'string' ? html.includes(re) : re.test(html));
    expect({
      doctype: html.startsWith('<!DOCTYPE html>'),
      // The approval card: the model's message with its Approve (primary) and Reject (danger) buttons.
      approveButton: has(/<span class="button primary" title="action_id=model_approve value=[0-9a-f-]{36}">Approve<\/span>/),
      rejectButton: has(/<span class="button danger"[^>]*>Reject<\/span>/),
      refusal: has('clicks Approve (Carl is not an approver)') && has('only visible to Carl in #kit-models'),
      wizardSteps: ['wizard_kits', 'wizard_options', 'wizard_labels', 'wizard_dataset'].every((id) => has(`callback_id=${id}`)),
      missingLabel: has('Label name for yellow light (yellow_light)'),
      deployConfirm: has('callback_id=model_deploy_confirm'),
    }).toEqual({ doctype: true, approveButton: true, rejectButton: true, refusal: true, wizardSteps: true, missingLabel: true, deployConfirm: true });
    // Self-contained, and no secret reaches the page.
    expect({ scripts: has(/<script|<link /), secrets: has(/xoxb-|assay_edge_/) }).toEqual({ scripts: false, secrets: false });
  });

  it('tells the detector\'s story: mAP on its card, the picture in its thread, boxes the edge found with the downloaded ONNX', () => {
    const html = fs.readFileSync(result.transcriptPath, 'utf8');
    const found = result.detector?.edgeFound;
    expect(found?.objects.length).toBeGreaterThan(0);
    for (const o of found!.objects) {
      expect(['red_light', 'green_light']).toContain(o.className);
      expect(o.score).toBeGreaterThanOrEqual(0.25);
    }
    expect(result.detector?.previewFileId).toMatch(/^F/);
    expect({
      mAP: html.includes('mAP50-95') && html.includes('mAP50'),
      // The preview PNG, inlined in the thread of the card.
      picture: /<div class="message" data-method="files.completeUploadExternal">[\s\S]*?\(in thread\)[\s\S]*?<img src="data:image\/png;base64,/.test(html),
      edgeRan: html.includes('runs the downloaded detector on'),
    }).toEqual({ mAP: true, picture: true, edgeRan: true });
  });

  it('records the pipeline timestamps the headline benchmark reads', () => {
    expect(result.marks.lastSubmit).toBeLessThan(result.marks.approvalCard!);
    expect(result.rows.training?.status).toBe('trained');
    expect(result.rows.evaluation?.status).toBe('completed');
    // Rolled back on KIT-9001 only: the model still runs on KIT-9002.
    expect(result.rows.model?.status).toBe('deployed');
  });
});
