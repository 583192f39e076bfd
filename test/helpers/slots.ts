// Holds fleet warm slots from the test's own database session, so warmers can be lined up in
// `waiting-for-slot` and all let go at one known moment.
import { randomUUID } from 'node:crypto';
import type { TestDatabase } from '@mokakbab/testkit';

/** GET_LOCK names are server-wide: each test uses its own prefix. */
export const uniqueSlotPrefix = (): string => `test.${randomUUID().slice(0, 8)}`;

export async function holdSlots(db: TestDatabase, prefix: string, count: number): Promise<() => Promise<void>> {
  for (let i = 0; i < count; i++) {
    const [row] = await db.query<{ got: number }[]>('SELECT GET_LOCK(?, 0) AS got', [`${prefix}.${i}`]);
    if (row?.got !== 1) throw new Error(`slot ${prefix}.${i} is already taken`);
  }
  return async () => {
    for (let i = 0; i < count; i++) await db.query('SELECT RELEASE_LOCK(?)', [`${prefix}.${i}`]);
  };
}
