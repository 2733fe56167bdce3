// `assay eval-coco --gt GT.json --dt DETS.json [--json]`: Assay's COCO numbers for any files,
// so anyone can check them against pycocotools or another COCO tool.
import { parseArgs } from 'node:util';
import { cocoJson, evalCocoFiles, formatCocoStats } from '../../ml/metrics/coco-cli.js';
import { CliUsageError, type CliCommand } from './types.js';

export const evalCocoCommand: CliCommand = {
  name: 'eval-coco',
  summary: 'COCO bbox evaluation (the 12 standard stats) of a detections file',
  usage: 'assay eval-coco --gt GT.json --dt DETS.json [--json]',
  async run(args) {
    let values;
    try {
      ({ values } = parseArgs({ args, options: { gt: { type: 'string' }, dt: { type: 'string' }, json: { type: 'boolean' } } }));
    } catch (e) {
      throw new CliUsageError(`${(e as Error).message}\nusage: ${this.usage}`);
    }
    if (!values.gt || !values.dt) throw new CliUsageError(`--gt and --dt are required\nusage: ${this.usage}`);
    let result;
    try {
      result = await evalCocoFiles(values.gt, values.dt);
    } catch (e) {
      throw new CliUsageError((e as Error).message);
    }
    process.stdout.write(values.json ? JSON.stringify(cocoJson(result), null, 2) + '\n' : formatCocoStats(result));
    return 0;
  },
};
