// Closure rules (.closure-lens.json): budgets and forbidden paths checked against a closure.
export * from './rules';
