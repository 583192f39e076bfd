// GET /pool and POST /pool/warm serve the shared admin contract as it is.
export { PoolResponseSchema as PoolStatsResponse, WarmFailedSchema as WarmFailedResponse } from '@mokakbab/contracts';
