// Schema pieces shared by several routes: ids, cursors, the error body, nullable scalars.
import { Type, type TSchema } from 'typebox';

/** INT UNSIGNED: ids outside this range are a 400, never a database error. */
export const MAX_ID = 4_294_967_295;

// The building blocks of params and querystrings: integer schemas here are only ever parsed from
// canonical decimal digits (validation.ts), so `Infinity`, `0x1f` or `1.0` is a 400 naming the field.
export const Id = Type.Integer({ minimum: 1, maximum: MAX_ID });

/** Path params `{ [name]: Id }`, e.g. `idParams('articleId')` for `/articles/:articleId`. */
export const idParams = <Name extends string>(name: Name) => Type.Object({ [name]: Id } as Record<Name, typeof Id>);

export const IdParams = idParams('id');

export const MAX_PAGE_LIMIT = 50;
export const DEFAULT_PAGE_LIMIT = 20;

export const Cursor = Type.Integer({ minimum: 1, maximum: MAX_ID, description: 'Return items with a smaller id.' });

export const Limit = Type.Integer({ minimum: 1, maximum: MAX_PAGE_LIMIT, default: DEFAULT_PAGE_LIMIT });

export const PageQuery = Type.Object({ cursor: Type.Optional(Cursor), limit: Type.Optional(Limit) });

// `type: [..., 'null']` instead of anyOf so fast-json-stringify emits a plain branch, not a union check.
export const NullableString = Type.Unsafe<string | null>({ type: ['string', 'null'] });
export const NullableInteger = Type.Unsafe<number | null>({ type: ['integer', 'null'] });

/** A page of `item`s; `nextCursor` is the `cursor` that asks for the next page, null on the last. */
export const Page = <Item extends TSchema>(item: Item) =>
  Type.Object({ items: Type.Array(item), nextCursor: NullableInteger });

export const DateTime = Type.String({ format: 'date-time' });

export const ErrorResponse = Type.Object(
  {
    statusCode: Type.Integer(),
    code: Type.String(),
    error: Type.String(),
    message: Type.String(),
  },
  { description: 'The one error shape of the API.' },
);

/** Response schemas for the error statuses a route can answer with, for the OpenAPI document. */
export function errors(...statuses: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = {};
  for (const status of statuses) out[status] = ErrorResponse;
  return out;
}

export const Name = Type.String({ minLength: 1, maxLength: 50 });
