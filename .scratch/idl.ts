import net from 'node:net';
process.on('exit', (c) => console.error('exit', c));
const p = await new Promise<number>((resolve, reject) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const port = (s.address() as net.AddressInfo).port;
    s.close(() => resolve(port));
  }).on('error', reject);
});
console.error('port', p);
