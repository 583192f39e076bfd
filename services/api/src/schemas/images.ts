import { Type } from 'typebox';

/** What an upload answers: `location` is the URL the image is served at; store it as articleImage. */
export const UploadedImage = Type.Object({
  filename: Type.String(),
  location: Type.String(),
});

// VARCHAR(255) columns (article.article_image, member.profile_image).
export const ImageLocation = Type.String({ minLength: 1, maxLength: 255, description: "An upload's `location`." });
