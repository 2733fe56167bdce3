// The OpenAPI 3.1 document, generated from the same zod schemas that validate requests.
// Route modules call `registerOperation` at import time, next to the schemas they parse with;
// GET /openapi.json renders whatever is registered.
import type { Express } from 'express';
import { z, type ZodType } from 'zod';
import type { AppContext } from '../app/context.js';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete' | 'head';

export interface OperationSpec {
  method: HttpMethod;
  /** Express style (`/api/v1/edge/models/:modelId`); rendered as `{modelId}`. */
  path: string;
  summary: string;
  description?: string;
  tags?: string[];
  /** Names of registered security schemes this operation requires (see registerSecurityScheme). */
  security?: string[];
  request?: { body?: ZodType; bodyContentType?: string; params?: ZodType; query?: ZodType; headers?: ZodType };
  responses: Record<number, { description: string; body?: ZodType; contentType?: string; headers?: Record<string, string> }>;
}

const operations = new Map<string, OperationSpec>();
const securitySchemes = new Map<string, Record<string, unknown>>();

/** Adds (or replaces, by method + path) an operation of the document. */
export function registerOperation(spec: OperationSpec): void {
  operations.set(`${spec.method} ${spec.path}`, spec);
}

export function registerSecurityScheme(name: string, scheme: Record<string, unknown>): void {
  securitySchemes.set(name, scheme);
}

function jsonSchema(schema: ZodType, io: 'input' | 'output'): Record<string, unknown> {
  try {
    const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
    return rest;
  } catch (e) {
    // One schema zod cannot express (e.g. a cycle) must not take the whole document down.
    return { description: `schema not representable in JSON Schema: ${(e as Error).message}` };
  }
}

/** Each property of an object schema becomes one parameter. */
function parameters(schema: ZodType | undefined, where: 'path' | 'query' | 'header'): Record<string, unknown>[] {
  if (!schema) return [];
  const s = jsonSchema(schema, 'input') as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, prop]) => {
    const { description, ...propSchema } = prop;
    return {
      name,
      in: where,
      required: where === 'path' || (s.required ?? []).includes(name),
      ...(description ? { description } : {}),
      schema: propSchema,
    };
  });
}

const openApiPath = (p: string) => p.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

export function openApiDocument(serverUrl?: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const sorted = [...operations.values()].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
  for (const op of sorted) {
    const path = openApiPath(op.path);
    const request = op.request ?? {};
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(op.responses)) {
      responses[status] = {
        description: r.description,
        ...(r.headers ? { headers: Object.fromEntries(Object.entries(r.headers).map(([h, d]) => [h, { description: d, schema: { type: 'string' } }])) } : {}),
        ...(r.body ? { content: { [r.contentType ?? 'application/json']: { schema: jsonSchema(r.body, 'output') } } } : {}),
      };
    }
    paths[path] ??= {};
    paths[path]![op.method] = {
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      ...(op.tags ? { tags: op.tags } : {}),
      operationId: `${op.method}${op.path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      ...(op.security ? { security: op.security.map((name) => ({ [name]: [] })) } : {}),
      parameters: [...parameters(request.params, 'path'), ...parameters(request.query, 'query'), ...parameters(request.headers, 'header')],
      ...(request.body
        ? { requestBody: { required: true, content: { [request.bodyContentType ?? 'application/json']: { schema: jsonSchema(request.body, 'input') } } } }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Assay',
      version: '1',
      description: 'Edge API (model assignments, signed downloads, heartbeats) and the webhooks of Assay.',
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    paths,
    components: { securitySchemes: Object.fromEntries(securitySchemes) },
  };
}

export function registerOpenApiRoutes(app: Express, ctx: AppContext): void {
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument(ctx.config.publicUrl));
  });
}
