// The host ↔ webview protocol: message types (messages.ts), their runtime checks (checks.ts), the persisted state.
export * from './messages';
export * from './checks';
export * from './hostChecks';
export * from './state';
