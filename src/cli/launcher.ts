/**
 * The `closure-lens` executable. It runs the CLI bundle (cli.js, next to this file) through a V8 code cache kept in
 * `<cache dir>/code/` (the CLI's cache directory: --cache-dir, else $XDG_CACHE_HOME/closure-lens; none with
 * --no-cache): for a short command, compiling the bundle's functions again on every run is a good part of the
 * whole run (bench/RESULTS.md). The cache only saves time. When it is missing, stale, damaged, rejected by V8 or
 * cannot be written, the bundle is compiled as usual and nothing else changes.
 *
 * V8 checks little of a cache it is given (the source length, its version and flags), and a damaged one can crash
 * the process natively, on every run. So each file carries a SHA-256 of its payload, checked before V8 sees it; a
 * file that fails the check is deleted. Only real subcommands get a cache (not typos), and the folder is kept under
 * CODE_CACHE_LIMIT bytes, oldest files out first.
 *
 * The cache holds compiled code, so it lives only in the user's own cache directory (created 0700), never in a
 * shared place such as /tmp where another user could plant one.
 */
import { isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { defaultCacheDir } from '../core/cacheDir';
import type { PrestartedNix } from '../core/nix/prestart';
import { launcherArgs } from './commandNames';
import { prestartClosureNix } from './prestart';

interface CliBundle {
  runAsProcess(prestarted?: PrestartedNix): void;
}

const BUNDLE = path.join(__dirname, 'cli.js');
/** All code caches together stay under this; one subcommand's cache is 150–350 KB. */
export const CODE_CACHE_LIMIT = 4 * 1024 * 1024;
const MAGIC = Buffer.from('closure-lens-v8\n');
const HASH_BYTES = 32;

interface CacheFile {
  dir: string;
  file: string;
  prefix: string;
}

/**
 * One file per subcommand and bundle build: V8 stores the functions that ran before the cache was made, and each
 * subcommand runs different ones. The name carries the bundle's identity (V8 itself checks only the source length)
 * and the node version (V8 rejects another version's cache, but the file would be rewritten on every run).
 */
function codeCacheFile(): CacheFile | undefined {
  try {
    const args = launcherArgs(process.argv.slice(2));
    if (args.command === undefined || args.noCache) return undefined;
    const bundle = fs.statSync(BUNDLE);
    const dir = path.join(args.cacheDir ? path.resolve(args.cacheDir) : defaultCacheDir(), 'code');
    const prefix = `${args.command}-`;
    const id = `${bundle.size}-${Math.floor(bundle.mtimeMs)}-${bundle.ino}-${process.version}-${process.arch}`;
    return { dir, file: path.join(dir, `${prefix}${id}.v8`), prefix };
  } catch {
    return undefined;
  }
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/** The payload of a cache file whose checksum holds; a file that fails the check is removed. */
function readCodeCache(file: string): Buffer | undefined {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  const payload = data.subarray(MAGIC.length + HASH_BYTES);
  const sound =
    data.length > MAGIC.length + HASH_BYTES &&
    data.subarray(0, MAGIC.length).equals(MAGIC) &&
    data.subarray(MAGIC.length, MAGIC.length + HASH_BYTES).equals(sha256(payload));
  if (sound) return payload;
  fs.rmSync(file, { force: true });
  return undefined;
}

/** Atomically (temp file, then rename), replacing the same subcommand's caches of older builds. */
function writeCodeCache(where: CacheFile, script: vm.Script): void {
  try {
    fs.mkdirSync(where.dir, { recursive: true, mode: 0o700 });
    const payload = script.createCachedData();
    const tmp = `${where.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, Buffer.concat([MAGIC, sha256(payload), payload]), { mode: 0o600 });
    fs.renameSync(tmp, where.file);
    const others: { full: string; size: number; mtimeMs: number }[] = [];
    for (const name of fs.readdirSync(where.dir)) {
      const full = path.join(where.dir, name);
      if (full === where.file) continue;
      if (name.startsWith(where.prefix) && !name.endsWith('.tmp')) fs.rmSync(full, { force: true });
      else {
        const st = fs.lstatSync(full);
        if (st.isFile()) others.push({ full, size: st.size, mtimeMs: st.mtimeMs });
      }
    }
    // Bounded: the oldest files go until the folder fits (the one just written always stays).
    let total = others.reduce((s, f) => s + f.size, fs.statSync(where.file).size);
    for (const f of others.sort((a, b) => a.mtimeMs - b.mtimeMs)) {
      if (total <= CODE_CACHE_LIMIT) break;
      fs.rmSync(f.full, { force: true });
      total -= f.size;
    }
  } catch {
    // read-only or full cache directory: the next run compiles again
  }
}

/**
 * The bundle's text. The shipped (minified) bundle is all ASCII, and then it is read as Latin-1: one byte per
 * character, where UTF-8 decoding makes a two-byte string of 1 MB of source (and each copy V8 and the module
 * wrapper make of it twice as large). Any other bundle is read as UTF-8.
 */
function readSource(): string {
  const bytes = fs.readFileSync(BUNDLE);
  return isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
}

function loadBundle(): CliBundle {
  const where = codeCacheFile();
  const cachedData = where ? readCodeCache(where.file) : undefined;
  // A #! line is only valid at the very start of a script; inside the module wrapper it becomes a comment of the
  // same length, so positions in stack traces stay right.
  const source = readSource().replace(/^#!/, '//');
  const script = new vm.Script(Module.wrap(source), { filename: BUNDLE, ...(cachedData ? { cachedData } : {}) });
  const bundleModule = new Module(BUNDLE, module);
  bundleModule.filename = BUNDLE;
  const wrapper = script.runInThisContext() as (
    exports: unknown,
    require: NodeJS.Require,
    module: Module,
    filename: string,
    dirname: string,
  ) => void;
  // The bundle needs only node's own modules, which this file's require resolves the same way.
  wrapper.call(bundleModule.exports, bundleModule.exports, require, bundleModule, BUNDLE, __dirname);
  bundleModule.loaded = true;
  if (where && (cachedData === undefined || script.cachedDataRejected === true)) {
    // At exit every function the command ran is compiled and goes into the cache.
    process.once('exit', () => writeCodeCache(where, script));
  }
  return bundleModule.exports as CliBundle;
}

// A cold `closure <store path>` starts nix first: it runs while the bundle below is compiled and started.
const prestarted =
  launcherArgs(process.argv.slice(2)).command === 'closure' ? prestartClosureNix(process.argv.slice(2)) : undefined;
loadBundle().runAsProcess(prestarted);
