import http from 'node:http';
import { runLoad } from '../bench/load-generator.js';
const server = http.createServer((req, res) => { req.resume(); req.on('end', () => res.end('ok')); });
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as any).port;
console.log(await runLoad({ url: `http://127.0.0.1:${port}`, kind: 'slack-command', secret: 's', connections: 4, durationSeconds: 1 }));
server.close();
