// The local admin channel: the CLI's short admin commands sent to the running server, which owns
// the embedded database. One JSON line in, one JSON line out, over a Unix socket in the data folder
// that only its owner can open (mode 0600): the filesystem is the authentication.
import path from 'node:path';
import { z } from 'zod';

export const ADMIN_SOCKET_NAME = 'admin.sock';
export const adminSocketPath = (dataDir: string) => path.join(path.resolve(dataDir), ADMIN_SOCKET_NAME);

/** A request line is at most this long; longer ones are refused. */
export const MAX_ADMIN_REQUEST_BYTES = 16 * 1024;

const name = z.string().trim().min(1).max(200);
/** Files travel by absolute path: the server resolves nothing against its own folder. */
const absolutePath = z.string().min(1).max(4096).refine((p) => path.isAbsolute(p), 'must be an absolute path');

const modelImport = z.strictObject({
  op: z.literal('model.import'),
  file: absolutePath,
  kits: z.array(name).min(1).max(100),
  /** An https:// URL or a local COCO file (absolute path). */
  dataset: z.union([z.url({ protocol: /^https?$/ }), absolutePath]),
  lineage: name.optional(),
  lineageName: name.optional(),
  datasetName: name.optional(),
});
export type ModelImportOperation = z.infer<typeof modelImport>;

export const adminOperation = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('edge.add'), name }),
  z.strictObject({ op: z.literal('edge.list') }),
  z.strictObject({ op: z.literal('edge.revoke'), name }),
  z.strictObject({ op: z.literal('cancel'), trainingUid: z.uuid() }),
  z.strictObject({ op: z.literal('history'), kit: name, at: z.iso.datetime({ offset: true }), option: name.optional() }),
  z.strictObject({ op: z.literal('seed'), demoKits: z.boolean() }),
  z.strictObject({ op: z.literal('migrate') }),
  z.strictObject({ op: z.literal('sync'), queue: z.boolean() }),
  modelImport,
]);
export type AdminOperation = z.infer<typeof adminOperation>;

export const adminRequest = z.strictObject({
  v: z.literal(1),
  /** Who runs the CLI (the audit actor); the socket's permissions already limit it to the data folder's owner. */
  user: z.string().min(1).max(100),
  operation: adminOperation,
});
export type AdminRequest = z.infer<typeof adminRequest>;

/** What the CLI prints and exits with, the same whether it ran here or in the server. */
export const adminResponse = z.strictObject({ code: z.number().int().min(0).max(255), stdout: z.string(), stderr: z.string() });
export type AdminResponse = z.infer<typeof adminResponse>;

/** A refused request, in one line naming the first problem. */
export function describeRequestProblem(error: z.ZodError): string {
  const issue = error.issues[0];
  const where = issue?.path.join('.') || 'request';
  return `${where}: ${issue?.message ?? 'invalid'}`;
}
