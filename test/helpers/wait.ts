// Bounded polling and JSON requests for the cross-service tests: the testkit's.
export { getJson, waitFor, type JsonResponse } from '@mokakbab/testkit';
