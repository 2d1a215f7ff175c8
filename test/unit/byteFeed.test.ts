/**
 * ByteFeed: nix's stdout handed to the analysis as it arrives. The reader gets every chunk in order and then the end,
 * waits while nothing is there, and throws what the producer failed with (a failed nix call's partial output is
 * never read as a closure).
 */
import assert from 'node:assert/strict';
import { ByteFeed } from '../../src/core/load';

async function readAll(feed: ByteFeed): Promise<string[]> {
  const got: string[] = [];
  for await (const chunk of feed) got.push(Buffer.from(chunk).toString());
  return got;
}

const bytes = (s: string): Uint8Array => Buffer.from(s);

describe('ByteFeed', () => {
  it('gives every chunk in order, those pushed before the reader started and those after, then ends', async () => {
    const feed = new ByteFeed();
    feed.push(bytes('a'));
    feed.push(bytes('b'));
    const reading = readAll(feed);
    await new Promise((r) => setTimeout(r, 5));
    feed.push(bytes('c'));
    await new Promise((r) => setImmediate(r));
    feed.push(bytes('d'));
    feed.push(bytes('e'));
    feed.end();
    assert.deepEqual(await reading, ['a', 'b', 'c', 'd', 'e']);
  });

  it('a reader waits while the producer is quiet, and is not done before the end', async () => {
    const feed = new ByteFeed();
    let done = false;
    const reading = readAll(feed).then((r) => ((done = true), r));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(done, false);
    feed.end();
    assert.deepEqual(await reading, []);
  });

  it('a failure reaches the reader as the producer’s error, and the chunks not yet read are dropped', async () => {
    const feed = new ByteFeed();
    const seen: string[] = [];
    const failure = new Error('nix failed');
    feed.push(bytes('x'));
    const reading = (async () => {
      for await (const chunk of feed) {
        seen.push(Buffer.from(chunk).toString());
        feed.push(bytes('never read'));
        feed.fail(failure);
      }
    })();
    await assert.rejects(reading, (e) => e === failure);
    assert.deepEqual(seen, ['x']);
  });

  it('an end is kept: a later failure changes nothing; a push after the end or a second reader is a bug', async () => {
    const feed = new ByteFeed();
    feed.push(bytes('a'));
    feed.end();
    feed.fail(new Error('too late'));
    assert.throws(() => feed.push(bytes('b')), /after the end/);
    assert.deepEqual(await readAll(feed), ['a']);
    await assert.rejects(readAll(feed), /read twice/);
  });
});
