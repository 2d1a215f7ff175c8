/**
 * The why panel's "Precise" button in headless Chromium: it asks the host for the references of the shortest
 * chain's edges, shows the answer per edge (the file, the snippet with the hash marked, as text even when the
 * bytes look like HTML), opens a hit through the host, and drops answers for another chain or malformed ones.
 */
import assert from 'node:assert/strict';
import type { HostToWebview, PreciseEdge } from '../../src/shared';
import { openHarness, type Harness } from './harness';
import { closureMessage, nixosLikeFixture, sp, type TestClosure } from './closures';

type PreciseResult = Extract<HostToWebview, { type: 'preciseResult' }>;
const hashOf = (p: string) => p.split('/').pop()!.slice(0, 32);

describe('webview: precise references in the why panel', function () {
  this.timeout(60_000);
  let h: Harness;
  let fixture: TestClosure;
  let chain: string[];

  before(async () => {
    fixture = nixosLikeFixture();
    h = await openHarness();
    await h.sendClosure(closureMessage(fixture));
    await h.send({ type: 'select', path: sp('perl-5.38.2') });
    await h.page.waitForSelector('#why .chain.shortest');
    chain = await h.page.$$eval('#why .chain.shortest .step', (els) => els.map((b) => b.getAttribute('title')!));
  });
  after(async () => {
    assert.deepEqual(await h.violations(), [], 'no CSP violations');
    await h.close();
  });

  const answer = (edges: PreciseEdge[], forChain = chain): PreciseResult => ({
    type: 'preciseResult',
    chain: forChain,
    edges,
  });
  const edgesWithHits = (): PreciseEdge[] =>
    chain.slice(0, -1).map((from, k) => {
      const to = chain[k + 1]!;
      return k === 0
        ? { from, to, hits: [], error: `cannot read ${from}: permission denied` }
        : {
            from,
            to,
            hits: [
              {
                file: `bin/tool${k}`,
                kind: 'file',
                offset: 100 + k,
                before: '<img src=x onerror=alert(1)>',
                hash: hashOf(to),
                after: '/bin/sh',
              },
              {
                file: 'lib/link',
                kind: 'symlink',
                offset: 11,
                before: '/nix/store/',
                hash: hashOf(to),
                after: '-x/lib',
              },
            ],
          };
    });

  it('the button posts a preciseRequest with the shortest chain, root first', async () => {
    assert.ok(chain.length >= 3, `chain: ${chain.join(' → ')}`);
    assert.equal(chain[chain.length - 1], sp('perl-5.38.2'));
    await h.page.click('#precise-button');
    await h.page.waitForSelector('#precise-results .precise-wait');
    const last = (await h.posted()).filter((m) => m.type === 'preciseRequest').pop();
    assert.deepEqual(last, { type: 'preciseRequest', chain });
  });

  it('lists per edge the files and snippets, the hash marked, the bytes as text; a hit clicked is opened by the host', async () => {
    await h.send(answer(edgesWithHits()));
    await h.page.waitForSelector('#precise-results .precise-edge');
    const shown = await h.page.$$eval('#precise-results .precise-edge', (els) =>
      els.map((e) => ({
        files: [...e.querySelectorAll('.precise-file')].map((f) => f.textContent),
        marks: [...e.querySelectorAll('mark')].map((m) => m.textContent),
        snippets: [...e.querySelectorAll('.precise-snippet')].map((s) => s.textContent),
        error: e.querySelector('.precise-error')?.textContent ?? null,
        images: e.querySelectorAll('img').length,
      })),
    );
    assert.equal(shown.length, chain.length - 1, 'one entry per edge');
    assert.match(shown[0]!.error!, /permission denied/);
    for (let k = 1; k < shown.length; k++) {
      const hash = hashOf(chain[k + 1]!);
      assert.deepEqual(shown[k]!.files, [`bin/tool${k}`, 'lib/link →']);
      assert.deepEqual(shown[k]!.marks, [hash, hash]);
      assert.equal(shown[k]!.snippets[0], `…<img src=x onerror=alert(1)>${hash}/bin/sh…`);
      assert.equal(shown[k]!.snippets[1], `/nix/store/${hash}-x/lib`);
      assert.equal(shown[k]!.images, 0, 'snippet bytes are never parsed as HTML');
    }
    await h.page.click('#precise-results .precise-edge[data-edge="1"] .precise-hit');
    const open = (await h.posted()).filter((m) => m.type === 'openReference').pop();
    assert.deepEqual(open, { type: 'openReference', referrer: chain[1], file: 'bin/tool1', offset: 101 });
    await h.screenshot('why-precise.png');
  });

  it('an answer for another chain, or a malformed one, changes nothing', async () => {
    const before = await h.page.$eval('#precise-results', (e) => e.textContent);
    await h.send(answer([{ from: chain[0]!, to: chain[1]!, hits: [] }], chain.slice(0, 2)));
    const broken = edgesWithHits();
    broken[1] = { ...broken[1]!, hits: [{ ...broken[1]!.hits[0]!, hash: hashOf(chain[0]!) }] };
    await h.send(answer(broken));
    await h.page.waitForTimeout(200);
    assert.equal(await h.page.$eval('#precise-results', (e) => e.textContent), before);
    const reports = (await h.posted()).filter((m) => m.type === 'reportError');
    assert.ok(reports.some((m) => m.type === 'reportError' && /"hash" must be the hash of "to"/.test(m.message)));
  });
});
