// `npm run bench`: runs every bench/*.bench.ts (or those named on the command line), keeps
// the raw figures in bench/results.json and rewrites BENCHMARKS.md from them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { renderBenchmarks, type BenchResult } from './report.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const resultsFile = path.join(here, 'results.json');

async function main() {
  const only = process.argv.slice(2);
  const files = fs
    .readdirSync(here)
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
    .sort();
  const previous: Record<string, BenchResult> = fs.existsSync(resultsFile) ? JSON.parse(fs.readFileSync(resultsFile, 'utf8')) : {};
  const results = { ...previous };
  for (const file of files) {
    const name = file.replace(/\.bench\.ts$/, '');
    process.stdout.write(`== ${name}\n`);
    const started = Date.now();
    try {
      const mod = await import(pathToFileURL(path.join(here, file)).href);
      const figures = await mod.run();
      results[name] = { figures, ranAt: new Date().toISOString(), seconds: Math.round((Date.now() - started) / 100) / 10 };
      process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
    } catch (e) {
      results[name] = { error: (e as Error).stack ?? String(e), ranAt: new Date().toISOString(), seconds: Math.round((Date.now() - started) / 100) / 10 };
      process.stdout.write(`FAILED: ${(e as Error).message}\n`);
    }
  }
  fs.writeFileSync(resultsFile, JSON.stringify(results, null, 2) + '\n');
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
  fs.writeFileSync(path.join(root, 'BENCHMARKS.md'), renderBenchmarks(results, machine));
  process.stdout.write(`\nWrote BENCHMARKS.md and bench/results.json\n`);
  process.exit(Object.values(results).some((r) => r.error) ? 1 : 0);
}

void main();
