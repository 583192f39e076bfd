// The category, region and district an article names: they must exist and the district must lie in
// the region. Shared by creating and editing an article.
import type { TxConnection } from '../db/index.js';

const SELECT_REFERENCES = `
  SELECT EXISTS (SELECT 1 FROM category WHERE id = ?) AS category_found,
    EXISTS (SELECT 1 FROM region WHERE id = ?) AS region_found,
    (SELECT region_id FROM district WHERE id = ?) AS district_region_id`;

interface ReferencesRow {
  category_found: number;
  region_found: number;
  district_region_id: number | null;
}

export type ReferenceProblem =
  'CATEGORY_NOT_FOUND' | 'REGION_NOT_FOUND' | 'DISTRICT_NOT_FOUND' | 'DISTRICT_NOT_IN_REGION';

export interface ArticlePlace {
  categoryId: number;
  regionId: number;
  districtId: number;
}

export async function referenceProblem(conn: TxConnection, place: ArticlePlace): Promise<ReferenceProblem | undefined> {
  const [refs] = await conn.query<ReferencesRow[]>(SELECT_REFERENCES, [
    place.categoryId,
    place.regionId,
    place.districtId,
  ]);
  if (!refs?.category_found) return 'CATEGORY_NOT_FOUND';
  if (!refs.region_found) return 'REGION_NOT_FOUND';
  if (refs.district_region_id === null) return 'DISTRICT_NOT_FOUND';
  if (refs.district_region_id !== place.regionId) return 'DISTRICT_NOT_IN_REGION';
  return undefined;
}
