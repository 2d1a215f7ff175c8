// Closure rules (.closure-lens.json): budgets and forbidden paths checked against a closure.
export * from './config';
export * from './targets';
export * from './evaluate';
export * from './diagnostics';
