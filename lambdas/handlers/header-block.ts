// The header reader moved below the handlers (lambdas/contracts/header-block.ts, DESIGN.md section 7);
// this re-export keeps imports written against the old path working.
export * from '../contracts/header-block.ts';
