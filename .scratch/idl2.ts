import { spawn } from 'node:child_process';
process.on('exit', (c) => console.error('exit', c));
const child = spawn(process.execPath, ['-e', 'setTimeout(()=>{}, 3000)'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env } });
console.error('spawned', child.pid);
try { const r = await fetch('http://127.0.0.1:1/healthz'); console.error(r.status); } catch (e) { console.error('fetch failed', (e as Error).message); }
await new Promise((r) => setTimeout(r, 200));
console.error('after timeout');
