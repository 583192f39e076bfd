// The original service's header forms, so its clients and k6 scripts keep working: sign-in with
// `Authorization: Basic base64(email:password)` and the refresh token as a Bearer header.

/** The token after a case-insensitive `scheme ` prefix, or undefined. */
export function schemeToken(header: string | undefined, scheme: 'basic' | 'bearer'): string | undefined {
  if (header === undefined || header.length <= scheme.length + 1) return undefined;
  if (header.slice(0, scheme.length).toLowerCase() !== scheme || header[scheme.length] !== ' ') return undefined;
  const token = header.slice(scheme.length + 1).trim();
  return token === '' ? undefined : token;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** `Basic base64(email:password)` as credentials; undefined when it is not that form. */
export function basicCredentials(header: string | undefined): { email: string; password: string } | undefined {
  const token = schemeToken(header, 'basic');
  if (token === undefined || !BASE64.test(token)) return undefined;
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  // The email cannot contain ':', the password may (RFC 7617 splits at the first colon).
  const colon = decoded.indexOf(':');
  if (colon < 1) return undefined;
  return { email: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
