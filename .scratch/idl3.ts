import { spawn } from 'node:child_process';
process.on('exit', (c) => console.error('exit', c));
const bareBolt = `
const { App, ExpressReceiver } = require('@slack/bolt');
const receiver = new ExpressReceiver({ signingSecret: 'x'.repeat(32) });
const app = new App({ token: 'xoxb-bench', receiver, tokenVerificationEnabled: false });
receiver.app.get('/healthz', (_req, res) => res.send('ok'));
app.start(Number(process.env.PORT), '127.0.0.1').then(() => console.error('listening'));
`;
const child = spawn(process.execPath, ['-e', bareBolt], { cwd: '/work/wt/speed', stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PORT: '41999' } });
child.stderr.on('data', (d) => console.error('child:', String(d).slice(0, 200)));
child.on('exit', (c) => console.error('child exit', c));
for (let i = 0; i < 100; i++) {
  try { const r = await fetch('http://127.0.0.1:41999/healthz'); console.error('status', r.status); break; } catch (e) { console.error('f', i, (e as Error).message); }
  await new Promise((r) => setTimeout(r, 500));
}
child.kill();
