// `assay evaluate --model FILE.onnx --dataset COCO.json [--json] [--detections-out FILE]`: runs a
// model file exactly as the evaluation job does — an Ultralytics-layout detector (COCO mAP) or
// Assay's own classifier (accuracy on the boxes' crops) — on a local COCO dataset.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { CliUsageError, type CliCommand } from './types.js';

const usage = 'assay evaluate --model FILE.onnx --dataset COCO.json [--json] [--detections-out FILE]';

export const evaluateCommand: CliCommand = {
  name: 'evaluate',
  summary: 'evaluate a detector (COCO mAP) or classifier ONNX on a COCO dataset with images beside it',
  usage,
  async run(args) {
    let values;
    try {
      ({ values } = parseArgs({ args, options: { model: { type: 'string' }, dataset: { type: 'string' }, json: { type: 'boolean' }, 'detections-out': { type: 'string' } } }));
    } catch (e) {
      throw new CliUsageError(`${(e as Error).message}\nusage: ${usage}`);
    }
    if (!values.model || !values.dataset) throw new CliUsageError(`--model and --dataset are required\nusage: ${usage}`);
    try {
      // ONNX Runtime, sharp and TF.js load only when this command runs, not at CLI start-up.
      const { detectionsJson, evaluateModelFiles } = await import('../../ml/evaluate/evaluate-files.js');
      const out = values['detections-out'];
      const result = await evaluateModelFiles(values.model, values.dataset, { detectorOnly: out ? '--detections-out' : undefined });
      if (out && result.task === 'detect') {
        try {
          await writeFile(out, detectionsJson(result.detections));
        } catch (e) {
          throw new Error(`cannot write ${out}: ${(e as Error).message}`);
        }
      }
      process.stdout.write(values.json ? `${JSON.stringify(result.report, null, 2)}\n` : result.text);
      return 0;
    } catch (e) {
      // One line, no stack: what is wrong with which file.
      process.stderr.write(`assay: ${String((e as Error)?.message ?? e).replace(/\s*\n\s*/g, ' ')}\n`);
      return 1;
    }
  },
};
