// How the why panel opens a `--precise` hit: text or not, the editor position of a byte offset (UTF-16 columns
// after multi-byte characters), and the hex excerpt of a binary whose text line holds the hash where the offset
// that findReferences found says.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chainProblem, findReferences, hexExcerpt, isText, lineAndColumn, TEXT_LINE } from '../../src/core/precise';
import { ClosureGraph } from '../../src/shared';

const DEP = '/nix/store/0c9h6jz8mzhm0lb1i8yvf6l1gh2cpy6x-glibc-2.39-52';
const HASH = '0c9h6jz8mzhm0lb1i8yvf6l1gh2cpy6x';

describe('precise: showing a hit in an editor', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'precise-excerpt-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('tells text from binaries', () => {
    assert.equal(isText(Buffer.from('#!/bin/sh\nexec perl "$@"\n')), true);
    assert.equal(isText(Buffer.from('naïve — 🦀\n')), true);
    assert.equal(isText(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1])), false, 'a NUL byte');
    assert.equal(isText(Buffer.from([0x61, 0xff, 0xfe, 0x62])), false, 'not UTF-8');
  });

  it('places a byte offset at the line and UTF-16 column an editor shows', () => {
    const text = `first line\nnaïve 🦀 ${DEP}/bin\n`;
    const bytes = Buffer.from(text);
    const offset = bytes.indexOf(HASH);
    const at = text.indexOf(HASH);
    assert.deepEqual(lineAndColumn(bytes, offset), { line: 1, character: at - text.indexOf('\n') - 1 });
    assert.notEqual(offset, at, 'the fixture has multi-byte characters before the hash');
    assert.deepEqual(lineAndColumn(bytes, 0), { line: 0, character: 0 });
  });

  it('a binary with an embedded path: the excerpt around the hit that findReferences found holds the hash there', async () => {
    const out = path.join(dir, 'bin');
    fs.mkdirSync(out);
    const elf = Buffer.concat([
      Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]),
      Buffer.alloc(1000, 0),
      Buffer.from(`${DEP}/lib/ld-linux-x86-64.so.2\0`),
      Buffer.alloc(700, 0xff),
    ]);
    fs.writeFileSync(path.join(out, 'tool'), elf);
    const hits = (await findReferences(out, [DEP])).get(DEP)!;
    assert.equal(hits.length, 1);
    const hit = hits[0]!;
    assert.equal(hit.file, 'tool');
    assert.equal(isText(elf), false);
    const from = Math.max(0, hit.offset - 256);
    const excerpt = hexExcerpt(elf.subarray(from, hit.offset + 32 + 256), from);
    const textLine = excerpt.slice(excerpt.lastIndexOf(TEXT_LINE) + TEXT_LINE.length);
    assert.equal(textLine.slice(hit.offset - from, hit.offset - from + 32), HASH);
    assert.ok(!textLine.includes('\0') && !textLine.includes('\n'), 'one printable line');
    const rows = excerpt.slice(0, excerpt.lastIndexOf(TEXT_LINE)).trimEnd().split('\n');
    assert.equal(rows.length, Math.ceil((hit.offset + 32 + 256 - from) / 16));
    assert.match(rows[0]!, new RegExp(`^${from.toString(16).padStart(8, '0')}  ([0-9a-f]{2} ){15}[0-9a-f]{2}  .{16}$`));
  });
});

describe('precise: which chains the webview may ask for', () => {
  const a = '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-system';
  const b = '/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-git-2.44.0';
  const c = '/nix/store/cccccccccccccccccccccccccccccccc-perl-5.38.2';
  const g = ClosureGraph.build(
    [
      { path: a, narSize: 1, references: [b] },
      { path: b, narSize: 1, references: [b, c] },
      { path: c, narSize: 1, references: [] },
    ],
    [a],
  );

  it('only references of the closure, each step an edge', () => {
    assert.equal(chainProblem(g, [a, b, c]), undefined);
    assert.match(chainProblem(g, [a, c])!, /does not reference/);
    assert.match(chainProblem(g, [c, b])!, /does not reference/);
    assert.match(chainProblem(g, [a, b, '/nix/store/dddddddddddddddddddddddddddddddd-etc'])!, /not in the closure/);
    assert.match(chainProblem(g, ['/nix/store/dddddddddddddddddddddddddddddddd-etc', a])!, /dddd.*not in the closure/);
  });
});
