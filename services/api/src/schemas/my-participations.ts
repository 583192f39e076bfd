import { Type, type Static } from 'typebox';
import { DateTime, Id, Page } from './common.js';
import { Participation } from './participations.js';

export const MyParticipation = Type.Object({
  ...Participation.properties,
  createdAt: DateTime,
  article: Type.Object({ id: Id, title: Type.String(), startTime: DateTime, endTime: DateTime }),
});

export type MyParticipationView = Static<typeof MyParticipation>;

export const MyParticipationPage = Page(MyParticipation);
