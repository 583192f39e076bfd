import { Type, type Static } from 'typebox';
import { CreateArticleBody } from './articles.js';
import { ImageLocation } from './images.js';

const { articleImage: _image, ...editable } = CreateArticleBody.properties;

// Every field optional; articleImage may also be null to remove the image.
export const UpdateArticleBody = Type.Object(
  {
    ...Type.Partial(Type.Object(editable)).properties,
    articleImage: Type.Optional(Type.Union([ImageLocation, Type.Null()])),
  },
  { minProperties: 1 },
);

export type UpdateArticleInput = Static<typeof UpdateArticleBody>;
