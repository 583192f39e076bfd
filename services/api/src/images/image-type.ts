// The image types accepted for upload, recognised by their first bytes (never the file name or the
// client's Content-Type, which the client chooses freely).

export interface ImageType {
  extension: 'jpg' | 'png' | 'webp';
  contentType: string;
}

const JPEG: ImageType = { extension: 'jpg', contentType: 'image/jpeg' };
const PNG: ImageType = { extension: 'png', contentType: 'image/png' };
const WEBP: ImageType = { extension: 'webp', contentType: 'image/webp' };

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Bytes needed to tell the types apart (WebP: "RIFF", 4 size bytes, "WEBP"). */
export const SNIFF_BYTES = 12;

export function sniffImageType(head: Buffer): ImageType | undefined {
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return JPEG;
  if (head.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) return PNG;
  if (
    head.length >= SNIFF_BYTES &&
    head.toString('latin1', 0, 4) === 'RIFF' &&
    head.toString('latin1', 8, 12) === 'WEBP'
  ) {
    return WEBP;
  }
  return undefined;
}

const BY_EXTENSION: Readonly<Record<string, ImageType>> = { jpg: JPEG, png: PNG, webp: WEBP };

export function imageTypeOfKey(key: string): ImageType | undefined {
  return BY_EXTENSION[key.slice(key.lastIndexOf('.') + 1)];
}
