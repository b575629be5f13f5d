// Validates real responses against openapi.yaml (OpenAPI 3.1 schemas are JSON Schema 2020-12).
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const doc = parse(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: unknown }>; $ref?: string }> }>>;
  components: { responses: Record<string, { content?: Record<string, { schema?: unknown }> }>; schemas: Record<string, unknown> };
};

const ajv = new Ajv2020({ strict: false, allErrors: true });
const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
ajv.addSchema({ $id: 'openapi', components: doc.components });

/** Compiled once per response kind: the fuzzing tests validate thousands of answers. */
const compiled = new Map<string, ReturnType<Ajv2020['compile']>>();

function rewriteRefs(schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/'));
}

/** Problems with a response body for path (as written in openapi.yaml), method and status; [] when valid. */
export function openApiProblems(path: string, method: string, status: number, contentType: string, body: unknown): string[] {
  const op = doc.paths[path]?.[method.toLowerCase()];
  if (!op) return [`openapi.yaml has no ${method} ${path}`];
  let response = op.responses[String(status)];
  if (!response) return [`openapi.yaml documents no ${status} for ${method} ${path}`];
  if (response.$ref) response = doc.components.responses[response.$ref.split('/').pop() ?? ''] ?? {};
  const content = response.content;
  if (!content) return body === undefined || body === '' || (typeof body === 'object' && body !== null && Object.keys(body).length === 0) ? [] : ['body not documented'];
  const media = content[contentType.split(';')[0]?.trim() ?? ''];
  if (!media) return [`content type ${contentType} not documented for ${status} ${method} ${path}`];
  if (!media.schema) return [];
  const key = `${method} ${path} ${status} ${contentType}`;
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv.compile(rewriteRefs(media.schema) as object);
    compiled.set(key, validate);
  }
  return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}
