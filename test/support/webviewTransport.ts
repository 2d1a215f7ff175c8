/**
 * How VS Code (1.57 and later, for an extension whose `engines.vscode` is at least that) carries a
 * `webview.postMessage` from the extension host to the webview, redone here for tests and the bench: the message is
 * JSON-encoded with a replacer that swaps every ArrayBuffer and typed array for a reference to its whole underlying
 * buffer (each buffer once); the RPC layer copies the JSON text and the buffers into one frame; the other side
 * parses the JSON with a reviver that puts views on copies of the buffers back in place
 * (microsoft/vscode src/vs/workbench/api/common/extHostWebviewMessaging.ts, serializeWebviewMessage and
 * deserializeWebviewMessage). Then the message reaches the page as a structured clone.
 */

/** VS Code's numbering of typed array types in a buffer reference. */
const VIEW_TYPES = [
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
] as const;

type ViewConstructor = new (buffer: ArrayBuffer, byteOffset: number, length: number) => ArrayBufferView;
const CONSTRUCTORS: Record<(typeof VIEW_TYPES)[number], ViewConstructor> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};

interface BufferReference {
  readonly $$vscode_array_buffer_reference$$: true;
  readonly index: number;
  readonly view?: { readonly type: number; readonly byteLength: number; readonly byteOffset: number };
}

export interface SerializedMessage {
  readonly json: string;
  /** Whole underlying buffers, in reference order (not copied yet). */
  readonly buffers: readonly Uint8Array[];
}

/** What `postMessage` does synchronously on the extension host's thread. */
export function serializeWebviewMessage(message: unknown): SerializedMessage {
  const buffers: ArrayBufferLike[] = [];
  const indexOf = (b: ArrayBufferLike): number => {
    let i = buffers.indexOf(b);
    if (i < 0) i = buffers.push(b) - 1;
    return i;
  };
  const json = JSON.stringify(message, (_key, value: unknown) => {
    if (value instanceof ArrayBuffer)
      return { $$vscode_array_buffer_reference$$: true, index: indexOf(value) } satisfies BufferReference;
    if (ArrayBuffer.isView(value)) {
      const type = VIEW_TYPES.indexOf(value.constructor.name as (typeof VIEW_TYPES)[number]) + 1;
      if (type > 0) {
        return {
          $$vscode_array_buffer_reference$$: true,
          index: indexOf(value.buffer),
          view: { type, byteLength: value.byteLength, byteOffset: value.byteOffset },
        } satisfies BufferReference;
      }
    }
    return value;
  });
  return { json, buffers: buffers.map((b) => new Uint8Array(b)) };
}

/** The RPC layer's copy of the JSON text and every buffer into one frame (also on the host's thread). */
export function rpcFrame(m: SerializedMessage): Uint8Array {
  const text = new TextEncoder().encode(m.json);
  const frame = new Uint8Array(text.length + m.buffers.reduce((s, b) => s + b.length, 0));
  frame.set(text, 0);
  let at = text.length;
  for (const b of m.buffers) {
    frame.set(b, at);
    at += b.length;
  }
  return frame;
}

/** The receiving side: views on fresh copies of the buffers, back where the references were. */
export function deserializeWebviewMessage(m: SerializedMessage): unknown {
  const copies = m.buffers.map((b) => {
    const copy = new ArrayBuffer(b.byteLength);
    new Uint8Array(copy).set(b);
    return copy;
  });
  return JSON.parse(m.json, (_key, value: unknown) => {
    const ref = value as Partial<BufferReference> | null;
    if (!ref || typeof ref !== 'object' || ref.$$vscode_array_buffer_reference$$ !== true) return value;
    const buffer = copies[ref.index!]!;
    if (!ref.view) return buffer;
    const name = VIEW_TYPES[ref.view.type - 1];
    if (!name) throw new Error(`unknown array buffer view type ${ref.view.type}`);
    const C = CONSTRUCTORS[name];
    const bytesPer = (C as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    return new C(buffer, ref.view.byteOffset, ref.view.byteLength / bytesPer);
  });
}
