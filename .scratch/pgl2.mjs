import { PGlite } from '@electric-sql/pglite';
const db = await PGlite.create({ dataDir: process.argv[2], postgresqlconf: ['shared_buffers = 16MB'] });
console.log((await db.query('show shared_buffers')).rows);
await db.close();
