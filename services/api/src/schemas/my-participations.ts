import { Type, type Static } from 'typebox';
import { DateTime, Id, NullableInteger } from './common.js';
import { Participation } from './participations.js';

export const MyParticipation = Type.Object({
  ...Participation.properties,
  createdAt: DateTime,
  article: Type.Object({ id: Id, title: Type.String(), startTime: DateTime, endTime: DateTime }),
});

export type MyParticipationView = Static<typeof MyParticipation>;

export const MyParticipationPage = Type.Object({ items: Type.Array(MyParticipation), nextCursor: NullableInteger });
