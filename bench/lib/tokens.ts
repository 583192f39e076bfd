// Access tokens of seeded members, signed in through a running API.
import { seededMember } from '@mokakbab/db';

// At most PASSWORD_HASH_MAX_CONCURRENT's default (4) hashes at once, so none is refused as busy.
const SIGN_IN_CONCURRENCY = 4;

export async function signInMembers(apiUrl: string, count: number): Promise<string[]> {
  const tokens: string[] = [];
  let nextId = 1;
  async function worker(): Promise<void> {
    while (nextId <= count) {
      const id = nextId++;
      const res = await fetch(`${apiUrl}/auth/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(seededMember(id)),
      });
      const body = (await res.json()) as { accessToken?: string };
      if (res.status !== 200 || !body.accessToken) {
        throw new Error(`sign-in as member ${id} answered ${res.status}: ${JSON.stringify(body)}`);
      }
      tokens.push(body.accessToken);
    }
  }
  await Promise.all(Array.from({ length: SIGN_IN_CONCURRENCY }, worker));
  return tokens;
}
