import { Type } from 'typebox';

export const LiveResponse = Type.Object({ status: Type.Literal('ok') });

export const ReadyResponse = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('warming'), Type.Literal('shutting-down')]),
});
