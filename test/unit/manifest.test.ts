/**
 * package.json's contributions keep VS Code's conventions: every user-visible string comes from package.nls.json
 * (each `%key%` has its entry, no entry is unused), every command is offered in the palette only where it can act,
 * the `when` clauses read context keys that the extension sets, and the walkthrough's media and links exist.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONTEXT_KEYS, HEAVIEST_VIEW_ID } from '../../src/extension/contributions';
import { repoRoot } from '../support/fixtures';

interface Command {
  command: string;
  title: string;
  category?: string;
}
interface MenuEntry {
  command: string;
  when?: string;
  group?: string;
}
interface Step {
  id: string;
  title: string;
  description: string;
  media: { markdown?: string; image?: string; altText?: string };
  completionEvents?: string[];
}
interface Manifest {
  capabilities: Record<string, { description?: string }>;
  contributes: {
    commands: Command[];
    menus: Record<string, MenuEntry[]>;
    viewsContainers: Record<string, { id: string; title: string }[]>;
    views: Record<string, { id: string; name: string; contextualTitle?: string }[]>;
    viewsWelcome: { view: string; contents: string }[];
    walkthroughs: { id: string; title: string; description: string; steps: Step[] }[];
    configuration: {
      title: string;
      properties: Record<string, { description?: string; markdownDescription?: string; enumDescriptions?: string[] }>;
    };
  };
}

const NLS_REF = /^%([^%\s]+)%$/;

/**
 * What the palette offers each command under: the `when` it must have (undefined: always offered). A new command
 * fails here until someone decides where it can act.
 */
const PALETTE_WHEN: Record<string, string | undefined> = {
  'nixClosureLens.showClosure': undefined,
  'nixClosureLens.showStorePath': undefined,
  'nixClosureLens.showLog': undefined,
  // Compares two store paths, links or generations without any closure shown.
  'nixClosureLens.diff': undefined,
  'nixClosureLens.editRules': 'workspaceFolderCount > 0',
  // These act on the closure shown last.
  'nixClosureLens.refresh': CONTEXT_KEYS.hasClosure,
  'nixClosureLens.reopen': CONTEXT_KEYS.hasClosure,
  'nixClosureLens.whyDepends': CONTEXT_KEYS.hasClosure,
  'nixClosureLens.compressedSize': CONTEXT_KEYS.hasClosure,
  'nixClosureLens.analyseOptions': CONTEXT_KEYS.hasConfiguration,
  'nixClosureLens.cancelOptionCosts': CONTEXT_KEYS.measuringOptionCosts,
  'nixClosureLens.showRunningSystem': CONTEXT_KEYS.hasRunningSystem,
  // These need the tree item or hover link they are run from.
  'nixClosureLens.showInSunburst': 'false',
  'nixClosureLens.whyDependsOn': 'false',
  'nixClosureLens.copyStorePath': 'false',
  'nixClosureLens.goToDefinition': 'false',
};

/** The terms of a `when` clause that must all hold (a clause with `||` has none that must). */
function requiredTerms(when: string | undefined): string[] {
  if (when === undefined || when.includes('||')) return [];
  return when.split('&&').map((t) => t.trim());
}

describe('package.json: VS Code conventions', () => {
  const root = repoRoot();
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as Manifest;
  const nls = JSON.parse(fs.readFileSync(path.join(root, 'package.nls.json'), 'utf8')) as Record<string, unknown>;
  const c = manifest.contributes;
  const contributed = new Set(c.commands.map((cmd) => cmd.command));
  /** A string as users see it: its package.nls.json entry when it is a `%key%`. */
  const text = (s: string): string => {
    const key = NLS_REF.exec(s)?.[1];
    return key === undefined ? s : String(nls[key]);
  };

  it('every %key% has an entry in package.nls.json, and every entry is used', () => {
    const used = new Set<string>();
    const walk = (v: unknown): void => {
      if (typeof v === 'string') {
        const key = NLS_REF.exec(v)?.[1];
        if (key !== undefined) used.add(key);
      } else if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(manifest);
    assert.ok(used.size >= 40, `only ${used.size} %keys% in package.json`);
    const missing = [...used].filter((k) => typeof nls[k] !== 'string' || (nls[k] as string).trim() === '');
    assert.deepEqual(missing, [], 'keys without a (non-empty) package.nls.json entry');
    const unused = Object.keys(nls).filter((k) => !used.has(k));
    assert.deepEqual(unused, [], 'package.nls.json entries that package.json does not use');
  });

  it('every user-visible string of the contributions is a %key%', () => {
    const visible: [string, string | undefined][] = [];
    for (const [name, cap] of Object.entries(manifest.capabilities))
      visible.push([`${name}.description`, cap.description]);
    for (const cmd of c.commands)
      visible.push([`${cmd.command} title`, cmd.title], [`${cmd.command} category`, cmd.category]);
    for (const vc of Object.values(c.viewsContainers).flat()) visible.push([`${vc.id} title`, vc.title]);
    for (const v of Object.values(c.views).flat())
      visible.push([`${v.id} name`, v.name], [`${v.id} contextualTitle`, v.contextualTitle]);
    for (const w of c.viewsWelcome) visible.push([`${w.view} welcome`, w.contents]);
    visible.push(['configuration title', c.configuration.title]);
    for (const [name, p] of Object.entries(c.configuration.properties)) {
      visible.push([`${name} description`, p.markdownDescription ?? p.description]);
      for (const d of p.enumDescriptions ?? []) visible.push([`${name} enumDescription`, d]);
    }
    for (const w of c.walkthroughs) {
      visible.push([`${w.id} title`, w.title], [`${w.id} description`, w.description]);
      for (const s of w.steps) {
        visible.push([`${s.id} title`, s.title], [`${s.id} description`, s.description]);
        if (s.media.image) visible.push([`${s.id} altText`, s.media.altText]);
      }
    }
    const literal = visible
      .filter(([, v]) => v === undefined || !NLS_REF.test(v))
      .map(([where, v]) => `${where}: ${v}`);
    assert.deepEqual(literal, []);
  });

  it('the palette offers each command only where it can act', () => {
    assert.deepEqual(
      [...contributed].sort(),
      Object.keys(PALETTE_WHEN).sort(),
      'commands without a decided palette entry',
    );
    const palette = c.menus['commandPalette'] ?? [];
    for (const [command, when] of Object.entries(PALETTE_WHEN)) {
      const entries = palette.filter((e) => e.command === command);
      if (when === undefined) assert.equal(entries.length, 0, `${command} is offered always: no palette entry`);
      else
        assert.deepEqual(
          entries.map((e) => e.when),
          [when],
          `${command} in the palette`,
        );
    }
    // A button of a command that needs a closure requires one too (item menus pass the item they act on).
    for (const [menu, entries] of Object.entries(c.menus)) {
      if (menu === 'commandPalette' || menu.endsWith('/item/context') || menu === 'explorer/context') continue;
      for (const e of entries) {
        const needed = PALETTE_WHEN[e.command];
        if (needed === undefined || needed === 'false' || !needed.startsWith('nixClosureLens.')) continue;
        assert.ok(requiredTerms(e.when).includes(needed), `${menu}: ${e.command} when "${e.when}" lacks ${needed}`);
      }
    }
  });

  it('menus name contributed commands, and when clauses read context keys the extension sets', () => {
    const keys = new Set<string>(Object.values(CONTEXT_KEYS));
    const read = new Set<string>();
    const expressions = [
      ...Object.values(c.menus).flatMap((entries) => entries.map((e) => e.when ?? '')),
      ...c.walkthroughs.flatMap((w) =>
        w.steps.flatMap((s) => (s.completionEvents ?? []).filter((e) => e.startsWith('onContext:'))),
      ),
    ];
    for (const [menu, entries] of Object.entries(c.menus))
      for (const e of entries) assert.ok(contributed.has(e.command), `${menu} names ${e.command}, not contributed`);
    for (const expr of expressions)
      for (const id of expr.match(/nixClosureLens\.[\w.]+/g) ?? []) if (id !== HEAVIEST_VIEW_ID) read.add(id);
    assert.deepEqual(
      [...read].filter((k) => !keys.has(k)),
      [],
      'context keys that nothing sets',
    );
    assert.deepEqual(
      [...keys].filter((k) => !read.has(k)),
      [],
      'context keys that nothing reads',
    );
  });

  it('the explorer offers "Show closure" on flake.nix and on links into the store', () => {
    const explorer = (c.menus['explorer/context'] ?? []).filter((e) => e.command === 'nixClosureLens.showClosure');
    const whens = explorer.map((e) => e.when ?? '');
    assert.ok(
      whens.some((w) => requiredTerms(w).includes('resourceFilename == flake.nix')),
      whens.join(' | '),
    );
    assert.ok(
      whens.some((w) => w === `resourcePath in ${CONTEXT_KEYS.storeLinks}`),
      whens.join(' | '),
    );
  });

  it('the walkthrough: open a flake, show a closure, hover an option, set a budget; media and links exist', () => {
    const [walkthrough] = c.walkthroughs;
    assert.ok(walkthrough);
    assert.deepEqual(
      walkthrough.steps.map((s) => s.id),
      ['openFlake', 'showClosure', 'hoverOption', 'setBudget'],
    );
    const links: string[] = [];
    for (const s of walkthrough.steps) {
      assert.ok((s.completionEvents ?? []).length > 0, `${s.id} has no completion event`);
      for (const e of s.completionEvents ?? []) {
        assert.match(e, /^on(Context|Command|View|Link|SettingChanged):\S/, `${s.id}: ${e}`);
        if (e.startsWith('onCommand:')) assert.ok(contributed.has(e.slice('onCommand:'.length)), e);
      }
      const media = s.media.markdown ?? s.media.image;
      assert.ok(media && fs.existsSync(path.join(root, media)), `${s.id}: media ${media} missing`);
      links.push(text(s.description));
    }
    links.push(...c.viewsWelcome.map((w) => text(w.contents)));
    const commands = links.flatMap((l) => [...l.matchAll(/\(command:([\w.]+)/g)].map((m) => m[1]!));
    assert.ok(commands.length >= 5, `only ${commands.length} command links`);
    for (const id of commands) assert.ok(contributed.has(id) || id.startsWith('workbench.'), `link to ${id}`);
  });
});
