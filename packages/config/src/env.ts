// A small, typed environment reader: each variable is declared once (name, form, default, meaning),
// every problem is collected, and the error names the variable, what is wrong and the expected form.

export type Env = Readonly<Record<string, string | undefined>>;

export interface VarSpec<T> {
  readonly name: string;
  readonly doc: string;
  /** The expected form, shown in errors and in the README table. */
  readonly form: string;
  /** Shown in the table; undefined means required unless `optional`. */
  readonly defaultValue?: T;
  readonly optional?: boolean;
  /** Secrets are never echoed back in error messages. */
  readonly secret?: boolean;
  /** How the default is written in the README table (default: String(value)). */
  readonly defaultText?: string;
  /** Returns the parsed value or throws an Error whose message says what is wrong. */
  readonly parse: (raw: string) => T;
}

interface Common {
  doc: string;
  secret?: boolean;
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

function withDefault<T>(spec: Omit<VarSpec<T>, 'defaultValue' | 'optional'>, opts: { default?: T }): VarSpec<T> {
  return { ...spec, ...(opts.default !== undefined ? { defaultValue: opts.default } : {}) };
}

/** The variable may be unset; its value is then undefined. */
export function optional<T>(spec: VarSpec<T>): VarSpec<T | undefined> {
  return { ...spec, optional: true };
}

export function int(name: string, opts: Common & { default?: number; min?: number; max?: number }): VarSpec<number> {
  const min = opts.min ?? Number.MIN_SAFE_INTEGER;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  const form =
    opts.min !== undefined && opts.max !== undefined
      ? `an integer from ${min} to ${max}`
      : opts.min !== undefined
        ? `an integer >= ${min}`
        : 'an integer';
  return withDefault(
    {
      name,
      doc: opts.doc,
      form,
      parse(raw) {
        if (!/^[+-]?\d+$/.test(raw.trim())) throw new Error('is not an integer');
        const n = Number(raw.trim());
        if (!Number.isSafeInteger(n)) throw new Error('is out of range');
        if (n < min || n > max) throw new Error(`is out of range`);
        return n;
      },
    },
    opts,
  );
}

export function powerOfTwo(name: string, opts: Common & { default?: number }): VarSpec<number> {
  const base = int(name, { ...opts, min: 2 });
  return {
    ...base,
    form: 'a power of two >= 2 (1024, 16384, ...)',
    parse(raw) {
      const n = base.parse(raw);
      if ((n & (n - 1)) !== 0) throw new Error('is not a power of two');
      return n;
    },
  };
}

export function str(name: string, opts: Common & { default?: string; minLength?: number }): VarSpec<string> {
  const minLength = opts.minLength ?? 1;
  return withDefault(
    {
      name,
      doc: opts.doc,
      form: minLength > 1 ? `a string of at least ${minLength} characters` : 'a non-empty string',
      ...(opts.secret ? { secret: true } : {}),
      parse(raw) {
        if (raw.length < minLength) throw new Error(`is too short (${raw.length} characters)`);
        return raw;
      },
    },
    opts,
  );
}

export function bool(name: string, opts: Common & { default: boolean }): VarSpec<boolean> {
  return withDefault(
    {
      name,
      doc: opts.doc,
      form: 'true or false (also 1/0, yes/no)',
      parse(raw) {
        const v = raw.trim().toLowerCase();
        if (['true', '1', 'yes', 'on'].includes(v)) return true;
        if (['false', '0', 'no', 'off'].includes(v)) return false;
        throw new Error('is not a boolean');
      },
    },
    opts,
  );
}

export function oneOf<const T extends string>(
  name: string,
  values: readonly T[],
  opts: Common & { default?: T },
): VarSpec<T> {
  return withDefault(
    {
      name,
      doc: opts.doc,
      form: `one of ${values.join(', ')}`,
      parse(raw) {
        const v = raw.trim();
        if (!(values as readonly string[]).includes(v)) throw new Error('is not an allowed value');
        return v as T;
      },
    },
    opts,
  );
}

/** Parses a URL whose protocol is one of `protocols`; the error names what was found. */
function parseUrl(raw: string, protocols: readonly string[]): URL {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw new Error('is not a URL');
  }
  if (!protocols.includes(u.protocol)) throw new Error(`has protocol ${u.protocol}, not ${protocols.join(' or ')}`);
  return u;
}

export function httpUrl(name: string, opts: Common & { default?: string }): VarSpec<URL> {
  return withDefault(
    {
      name,
      doc: opts.doc,
      form: 'an http:// or https:// URL',
      parse: (raw) => parseUrl(raw, ['http:', 'https:']),
    },
    opts.default !== undefined ? { default: new URL(opts.default) } : {},
  );
}

/** An SMTP URL as nodemailer takes it: smtp://user:password@host:port or smtps:// for implicit TLS. */
export function smtpUrl(name: string, opts: Common): VarSpec<URL> {
  return {
    name,
    doc: opts.doc,
    form: 'smtp://user:password@host:port or smtps://...',
    secret: true,
    parse(raw) {
      const u = parseUrl(raw, ['smtp:', 'smtps:']);
      if (!u.hostname) throw new Error('has no host');
      return u;
    },
  };
}

/** A MySQL URL: mysql://user:password@host:port/database[?ssl=true|ssl-mode=REQUIRED]. */
export function mysqlUrl(name: string, opts: Common): VarSpec<URL> {
  return {
    name,
    doc: opts.doc,
    form: 'mysql://user:password@host:port/database',
    secret: true,
    parse(raw) {
      const u = parseUrl(raw, ['mysql:', 'mariadb:']);
      if (!u.hostname) throw new Error('has no host');
      if (u.pathname.replace(/^\//, '') === '') throw new Error('names no database');
      return u;
    },
  };
}

export type Specs = Record<string, VarSpec<unknown>>;
export type Parsed<S extends Specs> = { [K in keyof S]: S[K] extends VarSpec<infer T> ? T : never };

/** Reads every variable in `specs`; throws one ConfigError listing all problems. */
export function readEnv<S extends Specs>(specs: S, env: Env = process.env): Parsed<S> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, spec] of Object.entries(specs)) {
    const raw = env[spec.name];
    if (raw === undefined || raw === '') {
      if (spec.defaultValue !== undefined) out[key] = spec.defaultValue;
      else if (spec.optional) out[key] = undefined;
      else problems.push(`${spec.name} is required: ${spec.doc} Expected ${spec.form}.`);
      continue;
    }
    try {
      out[key] = spec.parse(raw);
    } catch (err) {
      const shown = spec.secret ? '(value hidden)' : JSON.stringify(raw);
      problems.push(`${spec.name}=${shown} ${(err as Error).message}; expected ${spec.form}.`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out as Parsed<S>;
}

function shownDefault(spec: VarSpec<unknown>): string {
  if (spec.defaultValue === undefined) return spec.optional ? '(unset)' : '**required**';
  const v = spec.defaultValue;
  return `\`${spec.defaultText ?? shownValue(v)}\``;
}

function shownValue(v: unknown): string {
  if (v instanceof URL) return v.href;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** A Markdown table of the given specs, for the README (`pnpm --filter @mokakbab/config env-table`). */
export function envTable(groups: Record<string, Specs>): string {
  const lines: string[] = [];
  for (const [title, specs] of Object.entries(groups)) {
    lines.push(`**${title}**`, '', '| Variable | Default | Form | Meaning |', '| --- | --- | --- | --- |');
    for (const spec of Object.values(specs)) {
      lines.push(`| \`${spec.name}\` | ${shownDefault(spec)} | ${spec.form} | ${spec.doc} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}
