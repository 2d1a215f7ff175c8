/**
 * Reads store derivations (`.drv` files, ATerm): their outputs and their inputs. Counterfactual costs
 * compare the derivation of a changed configuration's toplevel with the original one.
 */
import { readFile } from 'node:fs/promises';
import { ClosureLensError } from '../errors';

export interface StoreDerivation {
  readonly drvPath: string;
  readonly name: string;
  /** Output name → store path. */
  readonly outputs: ReadonlyMap<string, string>;
  /** Input derivation → the outputs of it that are used. */
  readonly inputDrvs: ReadonlyMap<string, readonly string[]>;
  /** Plain store paths used as inputs (sources). */
  readonly inputSrcs: readonly string[];
}

type ATerm = string | ATerm[];

/** Parses the text of a .drv file. */
export function parseDerivation(drvPath: string, text: string): StoreDerivation {
  let i = 0;
  const fail = (what: string): never => {
    throw new ClosureLensError(
      'malformed-json',
      `${drvPath} is not a readable store derivation (${what} at offset ${i})`,
      {
        fix: 'check that the store is not damaged (`nix store verify`)',
      },
    );
  };
  const value = (): ATerm => {
    const c = text[i];
    if (c === '"') {
      let s = '';
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\') {
          const e = text[i + 1];
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : (e ?? '');
          i += 2;
        } else s += text[i++];
      }
      i++;
      return s;
    }
    if (c === '[' || c === '(') {
      const close = c === '[' ? ']' : ')';
      i++;
      const items: ATerm[] = [];
      while (text[i] !== close) {
        if (i >= text.length) fail('an unterminated list');
        items.push(value());
        if (text[i] === ',') i++;
      }
      i++;
      return items;
    }
    if (text.startsWith('Derive(', i)) {
      i += 'Derive'.length;
      return value();
    }
    return fail('an unexpected character');
  };
  const t = value();
  if (!Array.isArray(t) || t.length < 7) fail('a Derive term with fewer than 7 fields');
  const [outs, drvs, srcs, , , , env] = t as ATerm[][];
  const outputs = new Map<string, string>();
  for (const o of outs!) outputs.set(String((o as ATerm[])[0]), String((o as ATerm[])[1]));
  const inputDrvs = new Map<string, string[]>();
  for (const d of drvs!) inputDrvs.set(String((d as ATerm[])[0]), ((d as ATerm[])[1] as string[]).map(String));
  let name = '';
  for (const kv of env!) if ((kv as ATerm[])[0] === 'name') name = String((kv as ATerm[])[1]);
  return { drvPath, name, outputs, inputDrvs, inputSrcs: (srcs as string[]).map(String) };
}

/** Reads and parses .drv files, each once. */
export class DerivationReader {
  private readonly cache = new Map<string, Promise<StoreDerivation>>();

  constructor(private readonly read: (file: string) => Promise<string> = (f) => readFile(f, 'utf8')) {}

  get(drvPath: string): Promise<StoreDerivation> {
    let p = this.cache.get(drvPath);
    if (!p) {
      p = this.read(drvPath).then(
        (text) => parseDerivation(drvPath, text),
        (e: unknown) => {
          throw new ClosureLensError('file-not-found', `cannot read the store derivation ${drvPath}`, {
            fix: 'evaluate the configuration again (the .drv may have been garbage-collected), on the machine whose store holds it',
            cause: e,
          });
        },
      );
      this.cache.set(drvPath, p);
    }
    return p;
  }
}

/** Every store path a derivation's build can see: the used outputs of its input derivations and its sources. */
export async function inputPaths(reader: DerivationReader, drv: StoreDerivation): Promise<string[]> {
  const out = [...drv.inputSrcs];
  for (const [inputDrv, outputNames] of drv.inputDrvs) {
    const d = await reader.get(inputDrv);
    for (const o of outputNames) {
      const p = d.outputs.get(o);
      if (p) out.push(p);
    }
  }
  return out;
}
