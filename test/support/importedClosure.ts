/**
 * A large closure in the real store without building it: a generated graph (bench/generate.ts, names and NAR sizes
 * of real cache.nixos.org paths, out-degrees of a real NixOS closure) written as a `nix-store --export` stream and
 * loaded with `nix-store --import`. Building 10,000 derivations takes most of an hour here (bench/RESULTS.md);
 * importing them takes seconds, and the store then holds ordinary valid paths that `nix path-info` and
 * `nix why-depends` answer on like any other. Each file names the store paths it references, as a build output
 * would. The same arguments always give the same store paths; a second import is a no-op.
 */
import { createHash } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { generateSpec, loadSamples, type GraphSpec } from '../../bench/generate';
import { nixEnv } from './fixtures';

const STORE = '/nix/store';
const BASE32 = '0123456789abcdfghijklmnpqrsvwxyz';
/** Nix's `exportMagic`: ends the NAR of each path in an export stream. */
const EXPORT_MAGIC = 0x4558494e;

export interface ImportedClosure {
  readonly root: string;
  /** Every path, in dependency order (the root last). */
  readonly paths: readonly string[];
  readonly spec: GraphSpec;
}

/** A store path hash part made from the seed and the index: stable across runs, distinct across seeds. */
function hashPart(seed: number, i: number, name: string): string {
  const digest = createHash('sha256').update(`closure-lens-imported ${seed} ${i} ${name}`).digest();
  let out = '';
  for (let k = 0; k < 32; k++) out += BASE32[digest[k]! & 31];
  return out;
}

/** Nix's wire format: a little-endian u64. */
function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

/** Nix's wire format: length, bytes, zero padding to 8. */
function str(s: string | Buffer): Buffer {
  const bytes = typeof s === 'string' ? Buffer.from(s) : s;
  return Buffer.concat([u64(bytes.length), bytes, Buffer.alloc((8 - (bytes.length % 8)) % 8)]);
}

/** The NAR of a single regular file. */
function narOfFile(contents: Buffer): Buffer {
  return Buffer.concat(['nix-archive-1', '(', 'type', 'regular', 'contents'].map(str).concat(str(contents), str(')')));
}

/** A file of `size` bytes (at least its header) that names each reference, as an output that uses it would. */
function contentsOf(i: number, refs: readonly string[], size: number): Buffer {
  const head = `imported node ${i}\n${refs.map((r) => `${r}\n`).join('')}`;
  return Buffer.from(head.padEnd(Math.max(size, head.length), 'x'));
}

/**
 * Imports a generated closure of `n` paths (a no-op when it is there already) and registers its root as a GC
 * root, so a garbage collection by someone else does not take it away between runs.
 */
export async function importClosure(n: number, seed = 10_000): Promise<ImportedClosure> {
  const samples = await loadSamples();
  // Scaled-down sizes, as bench/generate.ts's real closures: the shape of real sizes without gigabytes.
  const spec = generateSpec(samples, n, seed, (narSize) => Math.max(64, Math.round(narSize / 256)));
  const paths = spec.nodes.map((node, i) => `${STORE}/${hashPart(seed, i, node.name)}-${node.name}`);
  const root = paths[n - 1]!;
  const check = await execa('nix-store', ['--check-validity', root], { env: nixEnv(), reject: false });
  if (check.exitCode !== 0) {
    const chunks: Buffer[] = [];
    spec.nodes.forEach((node, i) => {
      const refs = node.refs.map((j) => paths[j]!);
      chunks.push(
        u64(1),
        narOfFile(contentsOf(i, refs, node.size)),
        u64(EXPORT_MAGIC),
        str(paths[i]!),
        u64(refs.length),
        ...refs.map(str),
        str(''), // no deriver
        u64(0), // no legacy signature
      );
    });
    chunks.push(u64(0));
    await execa('nix-store', ['--import'], { env: nixEnv(), input: Buffer.concat(chunks), stdout: 'ignore' });
  }
  const gcroot = path.join(os.tmpdir(), `closure-lens-imported-${n}-${seed}`);
  await execa('nix-store', ['--realise', '--add-root', gcroot, '--indirect', root], {
    env: nixEnv(),
    stdout: 'ignore',
  });
  return { root, paths, spec };
}
