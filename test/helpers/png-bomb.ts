// A real PNG that declares a huge size but compresses to almost nothing (all-black rows): the
// decompression bomb of the adversarial review. Built row block by row block, so making it never
// holds more than one block of raw pixels.
import zlib from 'node:zlib';

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

/** An 8-bit greyscale PNG of width × height black pixels (16383² → about 260 KB). */
export async function pngBomb(width = 16383, height = 16383): Promise<Buffer> {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const deflate = zlib.createDeflate({ level: 9 });
  const parts: Buffer[] = [];
  deflate.on('data', (c: Buffer) => parts.push(c));
  const ended = new Promise((r) => deflate.on('end', r));
  const rows = 64;
  const block = Buffer.alloc((width + 1) * rows); // each row: filter byte 0, then zeros
  for (let y = 0; y < height; y += rows) {
    const n = Math.min(rows, height - y);
    if (!deflate.write(n === rows ? block : block.subarray(0, (width + 1) * n))) await new Promise((r) => deflate.once('drain', r));
  }
  deflate.end();
  await ended;
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', Buffer.concat(parts)), chunk('IEND', Buffer.alloc(0))]);
}
