// The chunked reference scanner against a plain search of the whole file: hashes planted at random places
// (across chunk boundaries, at the very start and end, overlapping the margins of other hits), several chunk
// sizes, first-hit and every-hit modes; and cancellation.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { scanFile, printable, findReferences } from '../../src/core/precise';
import { isClosureLensError } from '../../src/core/errors';
import { seededRandom } from '../support/prng';

const BASE32 = '0123456789abcdfghijklmnpqrsvwxyz';

function expectedHits(data: Buffer, hashes: Buffer[], all: boolean) {
  const out: { hashIndex: number; offset: number; before: string; after: string }[] = [];
  hashes.forEach((h, hashIndex) => {
    for (let p = data.indexOf(h); p >= 0; p = data.indexOf(h, p + 1)) {
      out.push({
        hashIndex,
        offset: p,
        before: data.subarray(Math.max(0, p - 32), p).toString('latin1'),
        after: data.subarray(p + 32, p + 64).toString('latin1'),
      });
      if (!all) break;
    }
  });
  return out;
}

describe('precise: chunked scan of one file', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'precise-scan-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (let seed = 1; seed <= 12; seed++) {
    it(`finds exactly what a whole-file search finds (seed ${seed})`, async () => {
      const rand = seededRandom(seed);
      const hash = () => Buffer.from(Array.from({ length: 32 }, () => BASE32[Math.floor(rand() * 32)]).join(''));
      const hashes = [hash(), hash(), hash()];
      const size = [0, 20, 64, 200, 5000, 70_000][seed % 6]! + Math.floor(rand() * 300);
      const data = Buffer.alloc(size);
      for (let i = 0; i < size; i++) data[i] = Math.floor(rand() * 256);
      const plants = size >= 32 ? 1 + Math.floor(rand() * 8) : 0;
      for (let k = 0; k < plants; k++) {
        const at = k === 0 ? 0 : k === 1 ? size - 32 : Math.floor(rand() * (size - 31));
        hashes[Math.floor(rand() * 3)]!.copy(data, at);
      }
      const file = path.join(dir, `f${seed}`);
      fs.writeFileSync(file, data);
      for (const chunkSize of [128, 129, 1000, 1 << 20]) {
        for (const allHits of [false, true]) {
          const fh = await fs.promises.open(file, 'r');
          try {
            const hits = await scanFile(fh, size, hashes, { chunkSize, allHits });
            const got = hits.map((h) => ({
              hashIndex: h.hashIndex,
              offset: h.offset,
              before: h.before.toString('latin1'),
              after: h.after.toString('latin1'),
            }));
            assert.deepEqual(got, expectedHits(data, hashes, allHits), `chunk ${chunkSize}, all ${allHits}`);
          } finally {
            await fh.close();
          }
        }
      }
    });
  }

  it('shows non-printable bytes as dots, as Nix does', () => {
    assert.equal(printable(Buffer.from([0x7f, 0x45, 0x00, 0x0a, 0x20, 0x7e, 0x80, 0xff])), '.E.. ~..');
  });

  it('stops when cancelled, with a clear error', async () => {
    const file = path.join(dir, 'big');
    fs.writeFileSync(file, Buffer.alloc(4 << 20, 0x61));
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      findReferences(file, [`/nix/store/${'a'.repeat(32)}-x`], {
        signal: controller.signal,
      }),
      (e: unknown) => isClosureLensError(e, 'cancelled'),
    );
  });

  it('a store path that is not on this machine: says so and how to fix it', async () => {
    const missing = `/nix/store/${'0'.repeat(32)}-not-here-1.0`;
    await assert.rejects(
      findReferences(missing, [`/nix/store/${'a'.repeat(32)}-x`]),
      (e: unknown) => isClosureLensError(e, 'file-not-found') && /nix-store --realise/.test(e.fix),
    );
  });
});
