// GET /pool and POST /pool/warm serve the shared admin contract as it is.
export { PoolStatsSchema as PoolStatsResponse, WarmFailedSchema as WarmFailedResponse } from '@mokakbab/contracts';
