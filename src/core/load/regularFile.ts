import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';

/**
 * The bytes of `file` if it is a regular file (not a symlink, FIFO or device) of at most `maxBytes`; undefined
 * otherwise. A FIFO put at a cache path would block a plain read forever, and a symlink to /dev/zero would fill
 * memory: the file is opened without following a final symlink and without blocking, and checked with fstat on
 * the open descriptor (no window between the check and the read), and no more than its size is read.
 */
export async function readRegularFile(file: string, maxBytes: number): Promise<Buffer | undefined> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = await handle.stat();
    if (!st.isFile() || st.size > maxBytes) return undefined;
    const buf = Buffer.allocUnsafe(st.size);
    let filled = 0;
    while (filled < st.size) {
      const { bytesRead } = await handle.read(buf, filled, st.size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === st.size ? buf : buf.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

/** readRegularFile, synchronously: for a small file read before anything else runs (the CLI launcher). */
export function readRegularFileSync(file: string, maxBytes: number): Buffer | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.size > maxBytes) return undefined;
    const buf = Buffer.allocUnsafe(st.size);
    let filled = 0;
    while (filled < st.size) {
      const bytesRead = fs.readSync(fd, buf, filled, st.size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === st.size ? buf : buf.subarray(0, filled);
  } finally {
    fs.closeSync(fd);
  }
}
