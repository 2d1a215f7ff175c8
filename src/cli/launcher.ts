/**
 * The `closure-lens` executable. It runs the CLI bundle (cli.js, next to this file) through a V8 code cache kept in
 * `$XDG_CACHE_HOME/closure-lens/code/`: for a short command, compiling the bundle's functions again on every run
 * is a good part of the whole run (bench/RESULTS.md). The cache only saves time. When it is missing, stale,
 * rejected by V8 or cannot be written, the bundle is compiled as usual and nothing else changes.
 *
 * The cache holds compiled code, so it lives only in the user's own cache directory (created 0700), never in a
 * shared place such as /tmp where another user could plant one.
 */
import * as fs from 'node:fs';
import Module from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';

interface CliBundle {
  runAsProcess(): void;
}

const BUNDLE = path.join(__dirname, 'cli.js');

/**
 * One file per subcommand and bundle build: V8 stores the functions that ran before the cache was made, and each
 * subcommand runs different ones. The name carries the bundle's identity (V8 itself checks only the source length)
 * and the node version (V8 rejects another version's cache, but the file would be rewritten on every run).
 */
function codeCacheFile(): { dir: string; file: string; prefix: string } | undefined {
  try {
    const bundle = fs.statSync(BUNDLE);
    const xdg = process.env['XDG_CACHE_HOME'];
    const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache');
    const dir = path.join(base, 'closure-lens', 'code');
    const arg = process.argv[2] ?? '';
    const prefix = `${/^[a-z]{1,20}$/.test(arg) ? arg : 'other'}-`;
    const id = `${bundle.size}-${Math.floor(bundle.mtimeMs)}-${bundle.ino}-${process.version}-${process.arch}`;
    return { dir, file: path.join(dir, `${prefix}${id}.v8`), prefix };
  } catch {
    return undefined;
  }
}

function readCodeCache(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Atomically (temp file, then rename), replacing the same subcommand's caches of older builds. */
function writeCodeCache(where: { dir: string; file: string; prefix: string }, script: vm.Script): void {
  try {
    fs.mkdirSync(where.dir, { recursive: true, mode: 0o700 });
    const tmp = `${where.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
    fs.renameSync(tmp, where.file);
    for (const name of fs.readdirSync(where.dir)) {
      const full = path.join(where.dir, name);
      if (name.startsWith(where.prefix) && full !== where.file && !name.endsWith('.tmp'))
        fs.rmSync(full, { force: true });
    }
  } catch {
    // read-only or full cache directory: the next run compiles again
  }
}

function loadBundle(): CliBundle {
  const where = codeCacheFile();
  const cachedData = where ? readCodeCache(where.file) : undefined;
  // A #! line is only valid at the very start of a script; inside the module wrapper it becomes a comment of the
  // same length, so positions in stack traces stay right.
  const source = fs.readFileSync(BUNDLE, 'utf8').replace(/^#!/, '//');
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

loadBundle().runAsProcess();
