// `assay history <kit> [--at ISO-TIME] [--option NAME]`: which model each kit option ran at a
// moment, who deployed it and who approved it.
import { CliUsageError, type CliCommand } from './types.js';
import { runAdmin } from './admin.js';

const usage = 'assay history <kit> [--at ISO-TIME] [--option NAME]';

export function parseHistoryArgs(args: string[]): { kit: string; at: Date; option?: string } {
  let kit: string | undefined;
  let at = new Date();
  let option: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (flag === '--at' || flag === '--option') {
      const value = inline ?? args[++i];
      if (!value) throw new CliUsageError(`${flag} needs a value\nusage: ${usage}`);
      if (flag === '--option') option = value;
      else {
        at = new Date(value);
        if (Number.isNaN(at.getTime())) throw new CliUsageError(`--at: "${value}" is not a time; use ISO 8601, e.g. 2026-01-31T12:00:00Z`);
      }
    } else if (a.startsWith('-') || kit) throw new CliUsageError(`unexpected argument "${a}"\nusage: ${usage}`);
    else kit = a;
  }
  if (!kit) throw new CliUsageError(`usage: ${usage}`);
  return { kit, at, option };
}

export const historyCommand: CliCommand = {
  name: 'history',
  summary: 'promotion history of a kit: active model per option at a moment, who deployed and approved it',
  usage,
  async run(args) {
    const { kit, at, option } = parseHistoryArgs(args);
    return runAdmin({ op: 'history', kit, at: at.toISOString(), ...(option ? { option } : {}) });
  },
};
