// Option attribution: which NixOS option definition brought each store path, and what removing it saves.
export * from './attribute';
export * from './collectors';
export * from './counterfactual';
export * from './derivation';
export * from './evaluate';
export * from './pathMap';
export * from './report';
export * from './service';
export * from './optionCosts';
export * from './causes';
export * from './counterfactualService';
export * from './variants';
export * from './sameName';
