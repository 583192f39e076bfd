// Request validation without silent coercion. Fastify's Ajv coerces loosely:
// `Number("Infinity")`, `"0x1f"`, `" 1"`, `true` and `[33]` all became integers, and Infinity reached
// the SQL unquoted. Here Ajv never coerces; integer fields of params, querystring and headers (which
// arrive as strings) are converted only from canonical decimal digits, anything else stays a string
// and fails the schema with "<part>/<field> must be integer". Every accepted string is also
// well-formed UTF-16: a lone surrogate would be stored as U+FFFD, not what the client sent.
import { AjvCompiler } from '@fastify/ajv-compiler';
import type { FastifySchemaCompiler, FastifySchemaValidationError, FastifyServerOptions } from 'fastify';

type Compile = FastifySchemaCompiler<unknown>;
type RouteSchema = Parameters<Compile>[0];
type FastifyValidationResult = ReturnType<Compile>;
// The factory's declared types describe Ajv's compile(schema); Fastify calls it with the route definition.
type BuildCompiler = (externalSchemas: unknown, options: unknown) => Compile;

/** Merged over Fastify's defaults (useDefaults, removeAdditional, allErrors false). */
export const AJV_CUSTOM_OPTIONS = {
  coerceTypes: false,
  // JSON.parse turns 1e400 into Infinity, which Ajv's integer check would otherwise accept.
  strictNumbers: true,
} as const;

// Canonical decimal: no sign, no leading zero, no exponent, no spaces; 16 digits covers every
// safe integer, longer strings stay strings and fail as "must be integer".
const DECIMAL = /^(?:0|[1-9][0-9]{0,15})$/;
// In `u` mode a surrogate pair is one code point, so \p{Cs} matches only lone surrogates.
const LONE_SURROGATE = /\p{Cs}/u;
const STRING_PARTS = new Set(['params', 'querystring', 'headers']);

interface SchemaNode {
  type?: unknown;
  properties?: Record<string, SchemaNode>;
}

function numericKeys(schema: unknown): string[] {
  const properties = (schema as SchemaNode | undefined)?.properties ?? {};
  return Object.keys(properties).filter((key) => {
    const type = properties[key]?.type;
    return type === 'integer' || type === 'number';
  });
}

function parseDecimals(data: unknown, keys: readonly string[]): void {
  if (typeof data !== 'object' || data === null) return;
  const record = data as Record<string, unknown>;
  for (const key of keys) {
    const value = record[key];
    if (typeof value === 'string' && DECIMAL.test(value)) record[key] = Number(value);
  }
}

/** The JSON pointer of the first string or key that is not well-formed UTF-16, if any. */
function illFormedPath(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? path : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const itemPath = `${path}/${key}`;
    if (LONE_SURROGATE.test(key)) return itemPath;
    const found = illFormedPath(item, itemPath);
    if (found !== undefined) return found;
  }
  return undefined;
}

const illFormed = (instancePath: string): FastifySchemaValidationError => ({
  keyword: 'wellFormed',
  instancePath,
  schemaPath: '#',
  params: {},
  message: 'must be well-formed Unicode (no lone surrogates)',
});

function strictValidator(routeSchema: RouteSchema, validate: FastifyValidationResult): FastifyValidationResult {
  const keys = STRING_PARTS.has(routeSchema.httpPart ?? '') ? numericKeys(routeSchema.schema) : [];
  const strict = (data: unknown) => {
    if (keys.length > 0) parseDecimals(data, keys);
    if (!validate(data)) {
      strict.errors = validate.errors;
      return false;
    }
    const path = illFormedPath(data, '');
    strict.errors = path === undefined ? null : [illFormed(path)];
    return path === undefined;
  };
  strict.errors = null as FastifySchemaValidationError[] | null | undefined;
  return strict;
}

/** Fastify's own Ajv compiler (formats, shared schemas), with each route's validators made strict. */
function buildStrictValidator(): BuildCompiler {
  const base = AjvCompiler() as unknown as BuildCompiler;
  return (externalSchemas, options) => {
    const compile = base(externalSchemas, options);
    return (routeSchema) => strictValidator(routeSchema, compile(routeSchema));
  };
}

/** The server options that make validation strict; every route gets them, routes added later too. */
export function validationOptions(): Pick<FastifyServerOptions, 'ajv' | 'schemaController'> {
  return {
    ajv: { customOptions: AJV_CUSTOM_OPTIONS },
    schemaController: {
      compilersFactory: { buildValidator: buildStrictValidator() as unknown as ReturnType<typeof AjvCompiler> },
    },
  };
}
