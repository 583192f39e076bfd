// Cached claims are handed to every request that presents the token, so they must not be mutable:
// freezing once at insert costs nothing per hit, where a copy per hit would allocate on the hot path.
export function deepFreeze<T>(value: T): Readonly<T> {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
