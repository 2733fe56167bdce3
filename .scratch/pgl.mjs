import { PGlite } from '@electric-sql/pglite';
import fs from 'node:fs';
const dir = process.argv[2]; const extra = process.argv[3] ? JSON.parse(process.argv[3]) : {};
const t0 = Date.now();
const db = await PGlite.create({ dataDir: dir, ...extra });
await db.query('select 1');
const hwm = () => Math.round(Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) / 1024);
console.log(JSON.stringify(extra).slice(0, 80), 'peak', hwm(), 'rss', Math.round(process.memoryUsage().rss / 1048576), 'ms', Date.now() - t0);
await db.close();
