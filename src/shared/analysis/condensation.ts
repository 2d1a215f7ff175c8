/**
 * The graph's strongly connected components, each collapsed to one node (the condensation, a DAG). Real
 * closures are acyclic, but `--from-json` input need not be, and every path of a cycle has the same closure,
 * so analyses that need an order (closure sizes) run on the condensation instead of giving up.
 */

/** The fields of a graph that the condensation reads (ClosureGraph has them). */
export interface ReferenceGraph {
  readonly nodeCount: number;
  readonly refOffsets: Int32Array;
  readonly refTargets: Int32Array;
  readonly narSize: Float64Array;
}

/** A DAG of components, in the shape closure-size code reads (CSR references, and referrer counts as offsets). */
export interface Condensation extends ReferenceGraph {
  /** The component of each node of the original graph. */
  readonly componentOf: Int32Array;
  /** Where each component's referrers would start in a CSR of referrers: differences give the referrer counts. */
  readonly revOffsets: Int32Array;
}

/**
 * Tarjan's algorithm without recursion (closures of a million paths would overflow the stack). Components are
 * numbered in the order Tarjan completes them, which is references first: every reference of component c has a
 * smaller number, so 0, 1, 2, … is a valid order for bottom-up work. Edges inside a component, and
 * repeated edges between two components, are dropped; narSize of a component is the sum of its nodes'.
 */
export function condense(g: ReferenceGraph): Condensation {
  const n = g.nodeCount;
  const { refOffsets, refTargets } = g;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const componentOf = new Int32Array(n).fill(-1);
  const tarjanStack = new Int32Array(n);
  const callNode = new Int32Array(n);
  const callEdge = new Int32Array(n);
  let tarjanTop = 0;
  let nextIndex = 0;
  let components = 0;
  for (let start = 0; start < n; start++) {
    if (index[start] !== -1) continue;
    let sp = 0;
    callNode[0] = start;
    callEdge[0] = refOffsets[start]!;
    index[start] = low[start] = nextIndex++;
    tarjanStack[tarjanTop++] = start;
    sp = 1;
    while (sp > 0) {
      const v = callNode[sp - 1]!;
      const e = callEdge[sp - 1]!;
      if (e < refOffsets[v + 1]!) {
        callEdge[sp - 1] = e + 1;
        const w = refTargets[e]!;
        if (index[w] === -1) {
          index[w] = low[w] = nextIndex++;
          tarjanStack[tarjanTop++] = w;
          callNode[sp] = w;
          callEdge[sp] = refOffsets[w]!;
          sp++;
        } else if (componentOf[w] === -1 && index[w]! < low[v]!) {
          low[v] = index[w]!; // w is on the Tarjan stack: same component
        }
        continue;
      }
      sp--;
      if (low[v] === index[v]) {
        let w: number;
        do {
          w = tarjanStack[--tarjanTop]!;
          componentOf[w] = components;
        } while (w !== v);
        components++;
      }
      if (sp > 0) {
        const parent = callNode[sp - 1]!;
        if (low[v]! < low[parent]!) low[parent] = low[v]!;
      }
    }
  }
  return buildComponentGraph(g, componentOf, components);
}

function buildComponentGraph(g: ReferenceGraph, componentOf: Int32Array, m: number): Condensation {
  const n = g.nodeCount;
  const narSize = new Float64Array(m);
  const members = new Int32Array(m + 1);
  for (let v = 0; v < n; v++) {
    narSize[componentOf[v]!]! += g.narSize[v]!;
    members[componentOf[v]! + 1]!++;
  }
  for (let c = 0; c < m; c++) members[c + 1]! += members[c]!;
  const byComponent = new Int32Array(n);
  const fill = members.slice(0, m);
  for (let v = 0; v < n; v++) byComponent[fill[componentOf[v]!]!++] = v;
  // References per component, each other component once (`seen` holds the component last counted for).
  const seen = new Int32Array(m).fill(-1);
  const refOffsets = new Int32Array(m + 1);
  const targets: number[] = [];
  for (let c = 0; c < m; c++) {
    for (let k = members[c]!; k < members[c + 1]!; k++) {
      const v = byComponent[k]!;
      for (let e = g.refOffsets[v]!; e < g.refOffsets[v + 1]!; e++) {
        const d = componentOf[g.refTargets[e]!]!;
        if (d === c || seen[d] === c) continue;
        seen[d] = c;
        targets.push(d);
      }
    }
    refOffsets[c + 1] = targets.length;
  }
  const refTargets = Int32Array.from(targets);
  const revOffsets = new Int32Array(m + 1);
  for (const d of refTargets) revOffsets[d + 1]!++;
  for (let c = 0; c < m; c++) revOffsets[c + 1]! += revOffsets[c]!;
  return { nodeCount: m, refOffsets, refTargets, narSize, componentOf, revOffsets };
}
