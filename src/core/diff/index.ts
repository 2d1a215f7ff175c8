// The closure diff: what changed between two closures, why, and how to render it.
export * from './diff';
export * from './report';
export * from './targets';
