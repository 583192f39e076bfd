// Keyset paging shared by the paged statements.
import { MAX_ID } from '../schemas/common.js';

/** Above every INT UNSIGNED id: the first page's cursor, so one SQL text serves every page. */
export const FIRST_PAGE_CURSOR = MAX_ID + 1;
