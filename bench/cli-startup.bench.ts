// Benchmark: CLI start-up, wall time of `assay --help` and `assay eval-coco` (a 7-image reference
// case) against `node -e 0` (Node's own start-up), from the built dist/ as users run it. The three
// commands rotate within each round so load drift hits all alike; ratios are paired per round.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pairedRatios, show, spread, type SummaryRow } from './stats.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
const ROUNDS = Number(process.env.CLI_BENCH_ROUNDS ?? 10);
const fixture = path.join(root, 'test', 'fixtures', 'coco-eval', 'case_padilla_7img');

/** Newest modification time under `dir` (files only). */
function newest(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

/** dist/ as `npm run build` makes it; rebuilt first when src/ is newer. */
function ensureBuilt(): boolean {
  if (fs.existsSync(cli) && fs.statSync(cli).mtimeMs >= newest(path.join(root, 'src'))) return false;
  const r = spawnSync('npx', ['--no-install', 'tsc', '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build failed: ${r.stdout}${r.stderr}`);
  return true;
}

function time(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'silent' } });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

export async function run() {
  const rebuilt = ensureBuilt();
  const commands = {
    node: ['-e', '0'],
    help: [cli, '--help'],
    evalCoco: [cli, 'eval-coco', '--gt', path.join(fixture, 'gt.json'), '--dt', path.join(fixture, 'dets.json'), '--json'],
  };
  const names = Object.keys(commands) as Array<keyof typeof commands>;
  for (const n of names) time(commands[n]); // warm the file cache
  const ms: Record<keyof typeof commands, number[]> = { node: [], help: [], evalCoco: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < names.length; i++) {
      const n = names[(i + r) % names.length]!;
      ms[n].push(time(commands[n]));
    }
  }
  const ratio = (n: 'help' | 'evalCoco') => spread(pairedRatios(ms[n], ms.node), 3);
  const node = spread(ms.node, 3);
  const summary: SummaryRow[] = [
    {
      figure: 'CLI start-up: `assay --help`, ms', assay: show(spread(ms.help, 3), 'ms'), baseline: `\`node -e 0\`: ${show(node, 'ms')}`,
      ratio: `${ratio('help').median} (${ratio('help').min}–${ratio('help').max}, paired)`, goal: '≤ 3 × `node -e 0`', met: ratio('help').median <= 3,
    },
    {
      figure: 'CLI: `assay eval-coco` on a 7-image case, ms', assay: show(spread(ms.evalCoco, 3), 'ms'), baseline: `\`node -e 0\`: ${show(node, 'ms')}`,
      ratio: `${ratio('evalCoco').median} (${ratio('evalCoco').min}–${ratio('evalCoco').max}, paired)`, goal: '≤ 3 × `node -e 0`', met: ratio('evalCoco').median <= 3,
    },
  ];
  return {
    summary,
    rounds: ROUNDS,
    rebuiltDistFirst: rebuilt,
    nodeE0Ms: node,
    helpMs: spread(ms.help, 3),
    evalCocoMs: spread(ms.evalCoco, 3),
    helpOverNode: ratio('help'),
    evalCocoOverNode: ratio('evalCoco'),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().then((r) => console.log(JSON.stringify(r, null, 2)), (e) => { console.error(e); process.exit(1); });
}
