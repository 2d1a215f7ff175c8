/**
 * Host → webview payloads, checked in the webview before anything is drawn: a damaged or foreign payload is refused
 * with a reason. (Webview → host messages are checked in checks.ts.)
 */
import { type HostToWebview, PROTOCOL_VERSION, type PreciseEdge } from './messages';
import {
  type Checked,
  MAX_PATH_LENGTH,
  MAX_PRECISE_CHAIN,
  MAX_PRECISE_HITS,
  MAX_SNIPPET,
  type Rec,
  checkString,
  isOffset,
  isRecord,
  isRelativeFile,
  isStorePathString,
  onlyKeys,
  parsePanelTarget,
} from './checks';
import { baseName } from '../storePath';
import { CATEGORIES } from '../categories';

// ---------------------------------------------------------------------------------------------------------
// Host → webview, checked in the webview: a damaged or foreign payload is refused with a reason instead of
// drawing nonsense (or throwing deep inside the chart). Typed arrays must be of the declared type and length,
// offsets of CSR arrays must run from 0 to the targets' length without going down, indices must be in range.

interface TypedArrays {
  Uint8Array: Uint8Array;
  Int32Array: Int32Array;
  Float64Array: Float64Array;
}
type TypedArrayName = keyof TypedArrays;

/** By the internal type tag, so that arrays cloned into another realm (the webview's frame) pass too. */
function isTypedArray<K extends TypedArrayName>(v: unknown, type: K): v is TypedArrays[K] {
  return ArrayBuffer.isView(v) && Object.prototype.toString.call(v) === `[object ${type}]`;
}

function typedField(o: Rec, key: string, type: TypedArrayName, length?: number): string | undefined {
  const v = o[key];
  if (!isTypedArray(v, type)) return `"${key}" must be a ${type}`;
  if (length !== undefined && v.length !== length) return `"${key}" has ${v.length} entries, expected ${length}`;
  return undefined;
}

/** Every value is an integer in [lo, hi). */
export function within(a: Int32Array, lo: number, hi: number): boolean {
  for (let i = 0; i < a.length; i++) if (a[i]! < lo || a[i]! >= hi) return false;
  return true;
}

/** Every value is a size: finite and not negative (NaN too where `unknown` allows it). */
function sizes(a: Float64Array, unknown = false): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    if (!(x >= 0 && x < Infinity) && !(unknown && Number.isNaN(x))) return false;
  }
  return true;
}

/** A CSR adjacency over n rows whose targets index [0, limit). */
function csrField(o: Rec, offsetsKey: string, targetsKey: string, n: number, limit: number): string | undefined {
  const bad = typedField(o, offsetsKey, 'Int32Array', n + 1) ?? typedField(o, targetsKey, 'Int32Array');
  if (bad) return bad;
  return csrProblem(o[offsetsKey] as Int32Array, o[targetsKey] as Int32Array, limit, offsetsKey, targetsKey);
}

/**
 * Why CSR arrays (`offsets` of n + 1 entries) are not an adjacency whose targets index [0, limit), or undefined.
 * Also what the graph cache checks a stored dominator tree with.
 */
export function csrProblem(
  offsets: Int32Array,
  targets: Int32Array,
  limit: number,
  offsetsKey = 'offsets',
  targetsKey = 'targets',
): string | undefined {
  const n = offsets.length - 1;
  if (offsets[0] !== 0 || offsets[n] !== targets.length)
    return `"${offsetsKey}" must run from 0 to the length of "${targetsKey}"`;
  for (let i = 0; i < n; i++) if (offsets[i + 1]! < offsets[i]!) return `"${offsetsKey}" goes down at ${i}`;
  if (!within(targets, 0, limit)) return `"${targetsKey}" holds an index outside [0, ${limit})`;
  return undefined;
}

/** Lines of a '\n'-separated UTF-8 table. */
function lineCount(bytes: Uint8Array): number {
  let lines = 1;
  for (let at = bytes.indexOf(10); at >= 0; at = bytes.indexOf(10, at + 1)) lines++;
  return lines;
}

const SNAPSHOT_FIELDS = [
  'storeDir',
  'names',
  'narSize',
  'refOffsets',
  'refTargets',
  'selfReference',
  'roots',
  'hasVirtualRoot',
  'sizesKnown',
  'idom',
  'retained',
  'childOffsets',
  'childTargets',
  'distance',
  'closureSize',
  'attribution',
];

/** Why a closure payload cannot be drawn, or undefined when it is well-formed. */
export function checkSnapshot(raw: unknown): string | undefined {
  if (!isRecord(raw)) return 'not an object';
  const extra = onlyKeys(raw, SNAPSHOT_FIELDS);
  if (extra) return extra;
  if (typeof raw['storeDir'] !== 'string' || raw['storeDir'].length > MAX_PATH_LENGTH)
    return '"storeDir" must be a string';
  const names = raw['names'];
  if (!isTypedArray(names, 'Uint8Array')) return '"names" must be a Uint8Array';
  const n = lineCount(names);
  for (const k of ['hasVirtualRoot', 'sizesKnown']) if (typeof raw[k] !== 'boolean') return `"${k}" must be a boolean`;
  const bad =
    typedField(raw, 'narSize', 'Float64Array', n) ??
    typedField(raw, 'selfReference', 'Uint8Array', n) ??
    typedField(raw, 'roots', 'Int32Array') ??
    typedField(raw, 'idom', 'Int32Array', n) ??
    typedField(raw, 'retained', 'Float64Array', n) ??
    typedField(raw, 'distance', 'Int32Array', n) ??
    (raw['closureSize'] === undefined ? undefined : typedField(raw, 'closureSize', 'Float64Array', n)) ??
    csrField(raw, 'refOffsets', 'refTargets', n, n) ??
    csrField(raw, 'childOffsets', 'childTargets', n, n);
  if (bad) return `${bad} (the string table has ${n} names)`;
  const roots = raw['roots'] as Int32Array;
  if (roots.length === 0 || !within(roots, 0, n)) return '"roots" must name at least one node, each in range';
  if (!within(raw['idom'] as Int32Array, -1, n)) return '"idom" holds an index outside [-1, n)';
  if (!within(raw['distance'] as Int32Array, -1, n)) return '"distance" holds a value outside [-1, n)';
  if (!sizes(raw['narSize'] as Float64Array) || !sizes(raw['retained'] as Float64Array))
    return 'a size is negative or not finite';
  if (raw['closureSize'] !== undefined && !sizes(raw['closureSize'] as Float64Array, true))
    return '"closureSize" holds a negative or infinite size';
  if (raw['attribution'] !== undefined) {
    const a = checkAttribution(raw['attribution'], n);
    if (a) return `attribution: ${a}`;
  }
  return undefined;
}

const PREVIEW_FIELDS = [
  'nodeCount',
  'hasVirtualRoot',
  'nodes',
  'names',
  'parent',
  'narSize',
  'retained',
  'restCount',
  'restSize',
  'categoryTotals',
];

/** Why a preview cannot be drawn, or undefined when it is well-formed. */
export function checkPreview(raw: unknown): string | undefined {
  if (!isRecord(raw)) return 'not an object';
  const extra = onlyKeys(raw, PREVIEW_FIELDS);
  if (extra) return extra;
  const n = raw['nodeCount'];
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 2 ** 28) return '"nodeCount" must be a count';
  if (typeof raw['hasVirtualRoot'] !== 'boolean') return '"hasVirtualRoot" must be a boolean';
  const names = raw['names'];
  if (!isTypedArray(names, 'Uint8Array')) return '"names" must be a Uint8Array';
  const k = lineCount(names);
  const bad =
    typedField(raw, 'nodes', 'Int32Array', k) ??
    typedField(raw, 'parent', 'Int32Array', k) ??
    typedField(raw, 'narSize', 'Float64Array', k) ??
    typedField(raw, 'retained', 'Float64Array', k) ??
    typedField(raw, 'restCount', 'Int32Array', k) ??
    typedField(raw, 'restSize', 'Float64Array', k);
  if (bad) return `${bad} (it has ${k} names)`;
  const totals = typedField(raw, 'categoryTotals', 'Float64Array', CATEGORIES.length);
  if (totals) return totals;
  const nodes = raw['nodes'] as Int32Array;
  const parent = raw['parent'] as Int32Array;
  if (k > n || nodes[0] !== 0 || parent[0] !== -1) return 'entry 0 must be the root, and entries at most nodeCount';
  if (!within(nodes, 0, n)) return '"nodes" holds an index outside [0, nodeCount)';
  const seen = new Set<number>();
  for (let e = 0; e < k; e++) {
    if (seen.has(nodes[e]!)) return `"nodes" names node ${nodes[e]} twice`;
    seen.add(nodes[e]!);
    if (e > 0 && !(parent[e]! >= 0 && parent[e]! < e)) return `entry ${e} does not follow its parent`;
  }
  if (!within(raw['restCount'] as Int32Array, 0, n)) return '"restCount" holds a count outside [0, nodeCount)';
  for (const key of ['narSize', 'retained', 'restSize', 'categoryTotals'])
    if (!sizes(raw[key] as Float64Array)) return `"${key}" holds a negative or infinite size`;
  return undefined;
}

const DEFINITION_FIELDS = [
  'option',
  'file',
  'fileLabel',
  'line',
  'column',
  'removalCost',
  'inWorkspace',
  'fromDefault',
  'moduleCost',
  'counterfactualCost',
  'enabledBy',
  'costMethod',
  'measuring',
  'broughtBack',
];

function checkDefinition(d: unknown): string | undefined {
  if (!isRecord(d)) return 'not an object';
  const extra = onlyKeys(d, DEFINITION_FIELDS);
  if (extra) return extra;
  const bad =
    checkString(d, 'option', MAX_PATH_LENGTH) ??
    checkString(d, 'file', MAX_PATH_LENGTH) ??
    (d['fileLabel'] === undefined ? undefined : checkString(d, 'fileLabel', MAX_PATH_LENGTH));
  if (bad) return bad;
  const line = d['line'];
  if (line !== null && !(Number.isInteger(line) && (line as number) >= 1))
    return '"line" must be a positive integer or null';
  const column = d['column'];
  if (column !== undefined && column !== null && !(Number.isInteger(column) && (column as number) >= 0))
    return '"column" must be an integer or null';
  for (const k of ['removalCost', 'counterfactualCost']) {
    if ((k === 'removalCost' || d[k] !== undefined) && !Number.isFinite(d[k])) return `"${k}" must be a finite number`;
  }
  for (const k of ['inWorkspace', 'fromDefault'])
    if (d[k] !== undefined && typeof d[k] !== 'boolean') return `"${k}" must be a boolean`;
  if (d['enabledBy'] !== undefined && typeof d['enabledBy'] !== 'string') return '"enabledBy" must be a string';
  if (d['measuring'] !== undefined && typeof d['measuring'] !== 'boolean') return '"measuring" must be a boolean';
  const method = d['costMethod'];
  if (method !== undefined && method !== 'counterfactual' && method !== 'edge-cut' && method !== 'node-removal')
    return '"costMethod" must be "counterfactual", "edge-cut" or "node-removal"';
  const back = d['broughtBack'];
  if (back !== undefined) {
    if (!Array.isArray(back) || back.length > 20) return '"broughtBack" must be a list of at most 20 paths';
    for (const b of back) {
      if (!isRecord(b) || onlyKeys(b, ['name', 'bytes'])) return '"broughtBack" entries must be { name, bytes }';
      if (typeof b['name'] !== 'string' || b['name'].length > MAX_PATH_LENGTH)
        return '"broughtBack" names must be strings';
      if (b['bytes'] !== null && !(Number.isFinite(b['bytes']) && (b['bytes'] as number) >= 0))
        return '"broughtBack" sizes must be non-negative numbers or null';
    }
  }
  const m = d['moduleCost'];
  if (m !== undefined) {
    if (!isRecord(m) || onlyKeys(m, ['files', 'bytes']) || !Number.isFinite(m['bytes']))
      return '"moduleCost" must be { files, bytes }';
    if (!Array.isArray(m['files']) || !m['files'].every((f) => typeof f === 'string'))
      return '"moduleCost.files" must be strings';
  }
  return undefined;
}

/** Why option attribution cannot be shown for a closure of `nodeCount` nodes (when known), or undefined. */
export function checkAttribution(raw: unknown, nodeCount?: number): string | undefined {
  if (!isRecord(raw)) return 'not an object';
  const extra = onlyKeys(raw, [
    'definitions',
    'defOffsets',
    'defTargets',
    'evalMs',
    'defCollectors',
    'enableOffsets',
    'enableTargets',
    'labelNodes',
    'labelTexts',
  ]);
  if (extra) return extra;
  const defs = raw['definitions'];
  if (!Array.isArray(defs)) return '"definitions" must be an array';
  for (const [k, d] of defs.entries()) {
    const bad = checkDefinition(d);
    if (bad) return `definition ${k}: ${bad}`;
  }
  const offsets = raw['defOffsets'];
  const n = nodeCount ?? (isTypedArray(offsets, 'Int32Array') ? offsets.length - 1 : 0);
  const bad = csrField(raw, 'defOffsets', 'defTargets', n, defs.length);
  if (bad) return bad;
  if (raw['evalMs'] !== undefined && !(Number.isFinite(raw['evalMs']) && (raw['evalMs'] as number) >= 0))
    return '"evalMs" must be a duration';
  return checkCauseFields(raw, n, defs.length);
}

/** The optional fields of an attribution: each chain's own collector, enabling definitions, labels. */
function checkCauseFields(raw: Rec, n: number, definitions: number): string | undefined {
  if (raw['defCollectors'] !== undefined) {
    const targets = raw['defTargets'] as Int32Array;
    const bad = typedField(raw, 'defCollectors', 'Int32Array', targets.length);
    if (bad) return bad;
    if (!within(raw['defCollectors'] as Int32Array, -1, n)) return '"defCollectors" holds an index outside [-1, n)';
  }
  if (raw['enableOffsets'] !== undefined || raw['enableTargets'] !== undefined) {
    const bad = csrField(raw, 'enableOffsets', 'enableTargets', n, definitions);
    if (bad) return bad;
  }
  if (raw['labelNodes'] !== undefined || raw['labelTexts'] !== undefined) {
    const bad = typedField(raw, 'labelNodes', 'Int32Array');
    if (bad) return bad;
    const nodes = raw['labelNodes'] as Int32Array;
    const texts = raw['labelTexts'];
    if (!Array.isArray(texts) || texts.length !== nodes.length) return '"labelTexts" must be one string per label node';
    if (!texts.every((t) => typeof t === 'string' && t.length <= MAX_PATH_LENGTH))
      return '"labelTexts" must be strings';
    if (!within(nodes, 0, n)) return '"labelNodes" holds an index outside [0, n)';
  }
  return undefined;
}

function checkSettings(raw: unknown): string | undefined {
  if (!isRecord(raw) || onlyKeys(raw, ['maxArcs', 'sizeStyle'])) return '"settings" must be { maxArcs, sizeStyle }';
  if (!Number.isInteger(raw['maxArcs']) || (raw['maxArcs'] as number) < 1)
    return '"settings.maxArcs" must be a positive integer';
  if (raw['sizeStyle'] !== 'nix' && raw['sizeStyle'] !== 'iec') return '"settings.sizeStyle" must be "nix" or "iec"';
  return undefined;
}

const HOST_FIELDS: { readonly [K in HostToWebview['type']]: readonly string[] } = {
  loading: ['type', 'title', 'message', 'target'],
  closure: ['type', 'protocol', 'title', 'target', 'snapshot', 'settings'],
  preview: ['type', 'title', 'preview', 'settings'],
  attribution: ['type', 'attribution'],
  select: ['type', 'path'],
  settings: ['type', 'settings'],
  error: ['type', 'message', 'fix'],
  preciseResult: ['type', 'chain', 'edges'],
};

const HIT_FIELDS = ['file', 'kind', 'offset', 'before', 'hash', 'after'];

function checkPreciseEdge(e: unknown): string | undefined {
  if (!isRecord(e)) return 'not an object';
  const extra = onlyKeys(e, ['from', 'to', 'hits', 'error']);
  if (extra) return extra;
  if (!isStorePathString(e['from']) || !isStorePathString(e['to'])) return '"from" and "to" must be store paths';
  if (e['error'] !== undefined && typeof e['error'] !== 'string') return '"error" must be a string';
  const hits = e['hits'];
  if (!Array.isArray(hits) || hits.length > MAX_PRECISE_HITS)
    return `"hits" must be an array of at most ${MAX_PRECISE_HITS}`;
  for (const [k, h] of hits.entries()) {
    const bad = !isRecord(h)
      ? 'not an object'
      : (onlyKeys(h, HIT_FIELDS) ??
        (!isRelativeFile(h['file'])
          ? '"file" must be "/" or a relative path'
          : h['kind'] !== 'file' && h['kind'] !== 'symlink'
            ? '"kind" must be "file" or "symlink"'
            : !isOffset(h['offset'])
              ? '"offset" must be a byte offset'
              : h['hash'] !== baseName(e['to'] as string).slice(0, 32)
                ? '"hash" must be the hash of "to"'
                : ['before', 'after'].some((s) => typeof h[s] !== 'string' || (h[s] as string).length > MAX_SNIPPET)
                  ? '"before" and "after" must be short strings'
                  : undefined));
    if (bad) return `hit ${k}: ${bad}`;
  }
  return undefined;
}

/** Why a `preciseResult` cannot be shown, or undefined: each edge joins neighbours of the chain. */
function checkPreciseResult(raw: Rec): string | undefined {
  const chain = raw['chain'];
  if (!Array.isArray(chain) || chain.length < 2 || chain.length > MAX_PRECISE_CHAIN || !chain.every(isStorePathString))
    return `"chain" must be an array of 2 to ${MAX_PRECISE_CHAIN} store paths`;
  const edges = raw['edges'];
  if (!Array.isArray(edges) || edges.length !== chain.length - 1) return '"edges" must hold one entry per edge';
  for (const [k, e] of edges.entries()) {
    const bad = checkPreciseEdge(e);
    if (bad) return `edge ${k}: ${bad}`;
    const edge = e as PreciseEdge;
    if (edge.from !== chain[k] || edge.to !== chain[k + 1]) return `edge ${k} does not join paths ${k} and ${k + 1}`;
  }
  return undefined;
}

/**
 * Validates a message from the extension host, in the webview. `nodeCount`: the nodes of the closure on show, which
 * a later `attribution` must match.
 */
export function parseHostMessage(raw: unknown, context: { nodeCount?: number } = {}): Checked<HostToWebview> {
  if (!isRecord(raw)) return { ok: false, reason: 'not an object' };
  const type = raw['type'];
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(HOST_FIELDS, type)) {
    const shown = typeof type === 'string' ? JSON.stringify(type.slice(0, 40)) : `of type ${typeof type}`;
    return { ok: false, reason: `unknown message type ${shown}` };
  }
  const t = type as HostToWebview['type'];
  const fail = (reason: string): Checked<HostToWebview> => ({ ok: false, reason: `${t}: ${reason}` });
  const extra = onlyKeys(raw, HOST_FIELDS[t]);
  if (extra) return fail(extra);
  const text = (k: string) => (typeof raw[k] === 'string' ? undefined : `"${k}" must be a string`);
  const target = (required: boolean) =>
    raw['target'] === undefined && !required
      ? undefined
      : parsePanelTarget(raw['target'])
        ? undefined
        : '"target" is not a panel target';
  let bad: string | undefined;
  switch (t) {
    case 'loading':
      bad = text('title') ?? text('message') ?? target(false);
      break;
    case 'closure':
      if (raw['protocol'] !== PROTOCOL_VERSION)
        return fail(`protocol ${String(raw['protocol']).slice(0, 20)}, expected ${PROTOCOL_VERSION}`);
      bad = text('title') ?? target(true) ?? checkSettings(raw['settings']);
      if (!bad) {
        const s = checkSnapshot(raw['snapshot']);
        if (s) bad = `snapshot: ${s}`;
      }
      break;
    case 'preview': {
      bad = text('title') ?? checkSettings(raw['settings']);
      const p = bad ? undefined : checkPreview(raw['preview']);
      if (p) bad = `preview: ${p}`;
      break;
    }
    case 'attribution': {
      const a = checkAttribution(raw['attribution'], context.nodeCount);
      if (a) bad = `attribution: ${a}`;
      break;
    }
    case 'select':
      bad = checkString(raw, 'path', MAX_PATH_LENGTH);
      break;
    case 'settings':
      bad = checkSettings(raw['settings']);
      break;
    case 'error':
      bad = text('message') ?? (raw['fix'] === undefined ? undefined : text('fix'));
      break;
    case 'preciseResult':
      bad = checkPreciseResult(raw);
      break;
  }
  return bad ? fail(bad) : { ok: true, value: raw as unknown as HostToWebview };
}
