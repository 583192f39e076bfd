// Checks of article input that the schema cannot express, shared by creating and editing.
import { badRequest } from '../../errors.js';
import type { ReferenceProblem } from '../../repositories/articles.js';

export const REFERENCE_MESSAGES: Readonly<Record<ReferenceProblem, string>> = {
  CATEGORY_NOT_FOUND: 'body/categoryId does not name an existing category',
  REGION_NOT_FOUND: 'body/regionId does not name an existing region',
  DISTRICT_NOT_FOUND: 'body/districtId does not name an existing district',
  DISTRICT_NOT_IN_REGION: 'body/districtId is not a district of body/regionId',
};

// DATETIME holds years 1000..9999; the schema's date-time format lets through instants outside
// that in UTC (9999-12-31T23:00:00-05:00) and leap seconds, which Date cannot represent.
const MIN_YEAR = 1000;
const MAX_YEAR = 9999;

export function parseInstant(value: string, field: string): Date {
  const date = new Date(value);
  const year = date.getUTCFullYear();
  if (Number.isNaN(year) || year < MIN_YEAR || year > MAX_YEAR) {
    throw badRequest('INVALID_DATE', `body/${field} must be a time between the years ${MIN_YEAR} and ${MAX_YEAR} UTC`);
  }
  return date;
}

export const invalidTimeRange = () => badRequest('INVALID_TIME_RANGE', 'body/endTime must be after body/startTime');
