/** Ids that package.json contributes and the code refers to. */
export const HEAVIEST_VIEW_ID = 'nixClosureLens.heaviest';
