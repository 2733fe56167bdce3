// `assay --help` (and an unknown command) load only the command table: no package at all, so the
// answer comes at Node's own start-up speed; a command's modules load when that command runs.
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { commands } from '../../src/cli/commands/index.js';

const hook = pathToFileURL(path.resolve('test/helpers/package-import-hook.mjs')).href;

/** Runs the CLI as the tests run it (tsx); returns its exit code, stdout and the packages Assay's code imported. */
function packagesLoaded(args: string[]): { code: number | null; out: string; packages: string[] } {
  const register = `import * as m from 'node:module'; import { resolve } from ${JSON.stringify(hook)};
    if (m.registerHooks) m.registerHooks({ resolve }); else m.register(${JSON.stringify(hook)});`;
  const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, '--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8', env: { PATH: process.env.PATH!, LOG_LEVEL: 'silent' }, timeout: 90_000,
  });
  // `tsx` itself is the loader (--import tsx), not something Assay imported.
  const packages = [...new Set(r.stderr.split('\n').flatMap((l) => (l.startsWith('PACKAGE ') ? [l.slice(8)] : [])))].filter((p) => p !== 'tsx').sort();
  return { code: r.status, out: r.stdout, packages };
}

describe('assay CLI start-up', () => {
  it('the check sees packages when a command loads them', () => {
    const r = packagesLoaded(['cancel']);
    expect(r.code).toBe(2);
    expect(r.packages).toEqual(expect.arrayContaining(['typeorm', 'zod']));
  });

  it('--help lists every command and loads no package (no database, Bolt, Agenda or ML stack)', () => {
    const r = packagesLoaded(['--help']);
    expect(r.code).toBe(0);
    for (const c of commands) expect(r.out).toContain(c.usage);
    expect(r.packages).toEqual([]);
    const unknown = packagesLoaded(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.packages).toEqual([]);
  });

  it("the table's name, usage and summary are each command module's own", async () => {
    for (const entry of commands) {
      const c = await entry.load();
      expect({ name: entry.name, usage: entry.usage, summary: entry.summary }).toEqual({ name: c.name, usage: c.usage, summary: c.summary });
    }
  });
});
