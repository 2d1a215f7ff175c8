/**
 * Large real closures in seconds: store paths written straight into the Nix store with `nix-store --import`, as
 * `nix-store --export` would have written them (Nix's export format: per path a NAR, then the path, its
 * references and deriver), instead of building thousands of derivations (Nix 2.8 builds about 3 paths a second
 * here, so a 10,000-path closure took 50 minutes).
 *
 * The paths are real in every way the tools read: `nix path-info`, `nix why-depends` (`--all`, `--precise`) and
 * `nix-store --verify` see valid paths whose NARs hold the hashes of their references (in a text file, a symlink
 * and a binary file), so a scan finds each reference where the NAR says it is. The store paths are named from a
 * hash of the spec, as input-addressed paths are named from their derivation; only nix's signature check is
 * turned off for the import (`require-sigs = false`), as for any unsigned `nix-store --import`.
 */
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { nixEnv } from './fixtures';

export interface ImportedNode {
  /** Store path name without the hash, e.g. `perl-5.38.2`. */
  readonly name: string;
  /** Indices of the node's references: earlier nodes only (the import adds references first). */
  readonly refs: readonly number[];
  /** Filler bytes added to the path's binary file, to give it a NAR size of this order (a bench NodeSpec's size). */
  readonly size: number;
}

const BASE32 = '0123456789abcdfghijklmnpqrsvwxyz';

/** The store paths `importClosure` makes for `nodes` under `salt`, without importing anything. */
export function importedPaths(nodes: readonly ImportedNode[], salt: string, storeDir = '/nix/store'): string[] {
  return nodes.map((node, i) => {
    const digest = createHash('sha256').update(`${salt}\0${i}\0${node.name}`).digest();
    let hash = '';
    for (let k = 0; k < 32; k++) hash += BASE32[digest[k]! & 31];
    return `${storeDir}/${hash}-${node.name}`;
  });
}

/**
 * Imports `nodes` (references first) into the local store and returns their store paths and how many were new;
 * paths already valid are left as they are (so a second call is cheap). Throws with nix's stderr on failure.
 */
export async function importClosure(
  nodes: readonly ImportedNode[],
  salt: string,
): Promise<{ paths: string[]; imported: number }> {
  const paths = importedPaths(nodes, salt);
  const valid = await validPaths(paths);
  const stream = new ExportWriter();
  for (let i = 0; i < nodes.length; i++) {
    if (valid.has(paths[i]!)) continue;
    const refs = nodes[i]!.refs.map((j) => {
      if (j >= i) throw new Error(`node ${i} (${nodes[i]!.name}) refers to a later node ${j}`);
      return paths[j]!;
    });
    stream.path(paths[i]!, nar(paths[i]!, refs, nodes[i]!.size), [...refs].sort());
  }
  stream.end();
  if (stream.count > 0) {
    const env = nixEnv();
    env['NIX_CONFIG'] = `${env['NIX_CONFIG'] ?? ''}\nrequire-sigs = false\n`;
    await execa('nix-store', ['--import'], { input: stream.bytes(), env, stdout: 'ignore', timeout: 30 * 60_000 });
  }
  return { paths, imported: stream.count };
}

async function validPaths(paths: readonly string[]): Promise<Set<string>> {
  const r = await execa('nix-store', ['--check-validity', '--print-invalid', ...paths], {
    env: nixEnv(),
    reject: false,
    maxBuffer: 256 * 1024 * 1024,
  });
  const invalid = new Set(r.stdout.split('\n').filter(Boolean));
  return new Set(paths.filter((p) => !invalid.has(p)));
}

/**
 * The NAR of one path: a directory with `bin/<name>` (a binary: a NUL-separated header, the first reference's
 * path inside it, filler), `share/refs` (every reference, one per line), `lib/first` (a symlink to the first
 * reference) and `README` (the path's own name).
 */
function nar(self: string, refs: readonly string[], bytes: number): Buffer {
  const name = self.slice(self.indexOf('-') + 1);
  const w = new NarWriter();
  w.str('nix-archive-1');
  w.dir(() => {
    w.entry('README', () => w.file(Buffer.from(`${name}\n`), false));
    w.entry('bin', () =>
      w.dir(() =>
        w.entry('prog', () => {
          const head = Buffer.from(`\x7fELF\x02\x01\x01\0${refs[0] ?? ''}\0`, 'latin1');
          w.file(Buffer.concat([head, Buffer.alloc(Math.max(0, bytes))]), true);
        }),
      ),
    );
    if (refs.length > 0) {
      w.entry('lib', () => w.dir(() => w.entry('first', () => w.symlink(refs[0]!))));
      w.entry('share', () => w.dir(() => w.entry('refs', () => w.file(Buffer.from(refs.join('\n') + '\n'), false))));
    }
  });
  return w.bytes();
}

/** Nix's wire format: little-endian u64 numbers, and strings as a length then the bytes padded to 8. */
class WireWriter {
  protected readonly parts: Buffer[] = [];

  num(n: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    this.parts.push(b);
  }

  str(s: string | Buffer): void {
    const b = typeof s === 'string' ? Buffer.from(s) : s;
    this.num(b.length);
    this.parts.push(b);
    if (b.length % 8) this.parts.push(Buffer.alloc(8 - (b.length % 8)));
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** NAR entries must come sorted by name, as nix writes them (the callers above add them in order). */
class NarWriter extends WireWriter {
  dir(entries: () => void): void {
    this.str('(');
    this.str('type');
    this.str('directory');
    entries();
    this.str(')');
  }

  entry(name: string, node: () => void): void {
    this.str('entry');
    this.str('(');
    this.str('name');
    this.str(name);
    this.str('node');
    node();
    this.str(')');
  }

  file(contents: Buffer, executable: boolean): void {
    this.str('(');
    this.str('type');
    this.str('regular');
    if (executable) {
      this.str('executable');
      this.str('');
    }
    this.str('contents');
    this.str(contents);
    this.str(')');
  }

  symlink(target: string): void {
    this.str('(');
    this.str('type');
    this.str('symlink');
    this.str('target');
    this.str(target);
    this.str(')');
  }
}

/** `nix-store --export`'s stream: per path `1`, the NAR, the magic, path, references, deriver, no signature. */
class ExportWriter extends WireWriter {
  count = 0;

  path(storePath: string, narBytes: Buffer, references: readonly string[]): void {
    this.num(1);
    this.parts.push(narBytes);
    this.num(0x4558494e);
    this.str(storePath);
    this.num(references.length);
    for (const r of references) this.str(r);
    this.str(''); // no deriver
    this.num(0); // no signature
    this.count++;
  }

  end(): void {
    this.num(0);
  }
}
