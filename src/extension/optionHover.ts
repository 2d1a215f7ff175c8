/**
 * Hover over an option definition in a .nix file: what it costs in closure size, in every analysed configuration
 * that the file is part of. It reads only what AnalysedTargets holds (the option attribution computed after "Show
 * closure"), so it answers at once and never runs nix; without data it says so and links the command that gets it.
 */
import * as vscode from 'vscode';
import { shortFile } from './displayPaths';
import type { Definition } from '../core/attribution/attribute';
import type { ClosureGraph } from '../shared/graph';
import { scanNixFile, type ScanResult } from '../core/nixSyntax/scanner';
import { formatBytes } from '../shared/format';
import { hoverSpotAt, type HoverSpot, type OptionCost } from '../core/attribution/optionCosts';
import { displayName } from '../shared/storePath';
import type { AnalysedTarget, AnalysedTargets } from './analysedTargets';
import type { MeasuredState } from './optionMeasurements';
import { broughtBack, describeMeasured, describeMeasuring } from './measuredHover';
import type { SizeUnits } from './settings';

export const NIX_SELECTOR: vscode.DocumentSelector = [{ language: 'nix', scheme: 'file' }];
const TOP = 5;
/** Configurations shown in one hover; more are named only. */
const MOST_CONFIGURATIONS = 3;

/** The commands that hover (and CodeLens) links may run. */
export const LINK_COMMANDS = [
  'nixClosureLens.showInSunburst',
  'nixClosureLens.whyDependsOn',
  'nixClosureLens.analyseOptions',
  'nixClosureLens.showClosure',
  'nixClosureLens.goToDefinition',
  'nixClosureLens.counterfactualCost',
];

/** Scans of open documents, one per version. */
export class ScanCache {
  private readonly scans = new Map<string, { version: number; scan: ScanResult }>();

  of(doc: vscode.TextDocument): ScanResult {
    const key = doc.uri.toString();
    const hit = this.scans.get(key);
    if (hit && hit.version === doc.version) return hit.scan;
    const scan = scanNixFile(doc.getText());
    this.scans.delete(key);
    this.scans.set(key, { version: doc.version, scan });
    if (this.scans.size > 50) this.scans.delete(this.scans.keys().next().value!);
    return scan;
  }

  forget(doc: vscode.TextDocument): void {
    this.scans.delete(doc.uri.toString());
  }
}

export class OptionHoverProvider implements vscode.HoverProvider {
  constructor(
    private readonly targets: AnalysedTargets,
    private readonly scans: ScanCache,
    private readonly units: () => SizeUnits,
    /** Told when a hover shows what an option costs (the walkthrough's step). */
    private readonly onCostShown: () => void = () => undefined,
  ) {}

  provideHover(doc: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const src = doc.getText();
    const scan = this.scans.of(doc);
    const spot = hoverSpotAt(src, scan, doc.offsetAt(position));
    if (!spot || spot.binding.kind !== 'definition') return undefined;
    const range = new vscode.Range(doc.positionAt(spot.start), doc.positionAt(spot.end));
    const file = this.targets.resolveFile(doc.uri.fsPath);
    const md = markdown();
    const found = this.targets.indexesFor(file);
    const costs: { target: AnalysedTarget; cost: OptionCost }[] = [];
    for (const { target, index } of found) {
      const cost = index.costAt(file, spot, scan, src);
      if (cost) costs.push({ target, cost });
    }
    if (costs.length > 0) {
      costs.slice(0, MOST_CONFIGURATIONS).forEach(({ target, cost }, k) => {
        if (k > 0) md.appendMarkdown('\n\n---\n\n');
        this.describe(md, target, cost, spot);
      });
      if (costs.length > MOST_CONFIGURATIONS) {
        md.appendMarkdown(
          `\n\n_Also in ${costs
            .slice(MOST_CONFIGURATIONS)
            .map((c) => code(c.target.title))
            .join(', ')}._`,
        );
      }
      // Configurations of the same flake, shown but without option costs: the file may be theirs too.
      const waiting = this.targets
        .configurationsWithout(doc.uri.fsPath)
        .filter((t) => !costs.some((c) => c.target.key === t.key));
      if (waiting.length > 0) {
        const notes = waiting.map((t) =>
          t.options.kind === 'running'
            ? `${code(t.title)}: being evaluated…`
            : `${code(t.title)}: ${link('Analyse option costs', 'nixClosureLens.analyseOptions', [t.key])}`,
        );
        md.appendMarkdown(`\n\nNot analysed yet: ${notes.join(' · ')}`);
      }
      this.onCostShown();
      return new vscode.Hover(md, range);
    }
    const option = spot.binding.path.join('.');
    if (found.length > 0) {
      // The file is part of these configurations, but this binding is no definition the evaluation saw.
      md.appendMarkdown(
        `${code(option)}: no definition of it from this file is in ${found.map((f) => code(f.target.title)).join(', ')} ` +
          `(not an option, switched off by a condition, or the file changed since the analysis).`,
      );
      return new vscode.Hover(md, range);
    }
    return this.withoutData(md, option, doc.uri.fsPath, range);
  }

  /** No option costs for this file: say why, and link what gets them. Never starts anything itself. */
  private withoutData(
    md: vscode.MarkdownString,
    option: string,
    file: string,
    range: vscode.Range,
  ): vscode.Hover | undefined {
    const waiting = this.targets.configurationsWithout(file);
    md.appendMarkdown(`**Nix Closure Lens** · ${code(option)}\n\n`);
    if (waiting.length === 0) {
      const shown = this.targets.list().filter((t) => t.options.kind === 'ready');
      if (shown.length > 0) return undefined; // analysed configurations do not use this file: nothing to say
      md.appendMarkdown(
        `No closure size data for this file yet. ${link('Show closure', 'nixClosureLens.showClosure', [])} of a configuration to see what each option costs.`,
      );
      return new vscode.Hover(md, range);
    }
    const lines = waiting.map((t) => {
      switch (t.options.kind) {
        case 'running':
          return `${code(t.title)}: the option costs are being evaluated…`;
        case 'failed':
          return `${code(t.title)}: the option costs could not be evaluated: ${escape(t.options.message)} ${link('Try again', 'nixClosureLens.analyseOptions', [t.key])}`;
        default:
          return `${code(t.title)}: no option costs yet. ${link('Analyse option costs', 'nixClosureLens.analyseOptions', [t.key])}`;
      }
    });
    md.appendMarkdown(lines.join('  \n'));
    return new vscode.Hover(md, range);
  }

  /**
   * A definition that carries no store path may still switch things on (`supportedFilesystems = [ "zfs" ]`): its
   * real cost needs an evaluation without it, which only a click on the link starts.
   */
  private counterfactual(
    md: vscode.MarkdownString,
    target: AnalysedTarget,
    d: Definition,
    size: (n: number) => string,
  ): void {
    const a = target.options.kind === 'ready' ? target.options.index.attribution : undefined;
    const known = a && this.targets.measured(target.key, a, d.id);
    const g = target.loaded.analysis.graph;
    if (known === 'measuring') {
      md.appendMarkdown(`Its value carries no store path. Evaluating ${code(target.title)} without it…\n\n`);
    } else if (known === undefined || 'error' in known) {
      const failed = known ? ` (the last try failed: ${escape(known.error)})` : '';
      md.appendMarkdown(
        `Its value carries no store path, but it may switch modules on${failed}. ` +
          `${link('Evaluate without it', 'nixClosureLens.counterfactualCost', [{ target: target.key, definition: d.id }])} for its real cost.\n\n`,
      );
    } else if (known.unchanged) {
      md.appendMarkdown(`Evaluated without it, ${code(target.title)} is the same system: it costs nothing.\n\n`);
    } else {
      const pct = target.loaded.analysis.totalSize > 0 ? (100 * known.bytes) / target.loaded.analysis.totalSize : 0;
      const lost = [...known.lostNodes]
        .filter((i) => !g.isVirtual(i))
        .sort((a, b) => g.narSize[b]! - g.narSize[a]! || a - b);
      md.appendMarkdown(
        `Evaluated without it: the closure loses **${size(known.bytes)}** · ${pct.toFixed(1)} % · ${lost.length} paths\n\n` +
          lost
            .slice(0, TOP)
            .map((i) => `- ${code(displayName(g.name(i)))} ${size(g.narSize[i]!)}`)
            .join('\n') +
          (lost.length > TOP ? `\n- … ${lost.length - TOP} more` : '') +
          '\n\n' +
          (known.addedPaths.length > 0 ? `and gains ${broughtBack(known, code, size).join(', ')}.\n\n` : ''),
      );
    }
  }

  private describe(md: vscode.MarkdownString, target: AnalysedTarget, c: OptionCost, spot: HoverSpot): void {
    const units = this.units();
    const g = target.loaded.analysis.graph;
    const size = (n: number) => formatBytes(n, units);
    const a = target.options.kind === 'ready' ? target.options.index.attribution : undefined;
    // Its true cost, once measured (or 'measuring…'), leads; an error falls back to the graph estimate below.
    const leadWithMeasured = (cost: OptionCost, definition: Definition, m: MeasuredState | undefined): boolean => {
      if (m === undefined || (m !== 'measuring' && 'error' in m)) return false;
      const progress = this.targets.measurements.progress(target.key);
      const h = { md, target, cost, definition, size, code, link, ...(progress ? { progress } : {}) };
      if (m === 'measuring') describeMeasuring(h);
      else describeMeasured(h, m);
      return true;
    };
    // One element of a list (`pkgs.htop`): the true cost of removing just it.
    const def = spot.element && c.at.length === 1 ? c.at[0]! : undefined;
    const e = def?.elements.find((x) => x.line === spot.element!.line && x.column === spot.element!.column);
    const em = def && e && a ? this.targets.measuredElement(target.key, a, def.id, e.element) : undefined;
    if (def && e && leadWithMeasured({ ...c, option: `${e.text} in ${def.option}` }, { ...def, nodes: e.nodes }, em))
      return;
    // One whole definition (or a module switch).
    const d = (c.kind === 'definition' || c.kind === 'module') && c.at.length === 1 ? c.at[0]! : undefined;
    const m = d && a ? this.targets.measured(target.key, a, d.id) : undefined;
    if (d && leadWithMeasured(c, d, m)) return;
    const pct = c.closureBytes > 0 ? (100 * c.bytes) / c.closureBytes : 0;
    const paths = c.lostPaths.length;
    const what =
      c.kind === 'package'
        ? `${code(c.carried.map((i) => displayName(g.name(i))).join(', '))} in ${code(c.option)}`
        : c.kind === 'module'
          ? `${code(c.option)} enables ${c.moduleFiles!.map((f) => code(shortFile(f))).join(', ')}`
          : code(c.option);
    md.appendMarkdown(`**${what}** · ${code(target.title)}\n\n`);
    const subject = c.kind === 'module' ? 'Module cost' : 'Removal cost';
    md.appendMarkdown(
      `${subject}: **${size(c.bytes)}** · ${pct.toFixed(1)} % of the closure (${size(c.closureBytes)}) · ` +
        `${paths} ${paths === 1 ? 'path' : 'paths'} only ${c.kind === 'package' ? 'this package brings' : c.kind === 'module' ? 'this module brings' : 'this definition brings'}\n\n`,
    );
    if (c.method === 'node-removal' && c.bytes > 0) {
      md.appendMarkdown(
        `_At most: no derivation that collects ${code(c.option)}'s values was found, so its paths were counted as removed with ` +
          'everything they reference; another path may still keep some of them._\n\n',
      );
    }
    if (paths > 0) {
      const top = c.lostPaths.slice(0, TOP);
      md.appendMarkdown(
        top.map((i) => `- ${code(displayName(g.name(i)))} ${size(g.narSize[i]!)}`).join('\n') +
          (paths > TOP ? `\n- … ${paths - TOP} more` : '') +
          '\n\n',
      );
    } else if (c.sharedWith.length > 0 || (c.kind !== 'package' && c.carried.length > 0)) {
      if (c.sharedWith.length > 0) {
        md.appendMarkdown(
          `Costs nothing alone: ${sharers(c.sharedWith)} also ${c.sharedWith.length === 1 ? 'brings' : 'bring'} paths it carries.\n\n`,
        );
      }
      if (c.kind !== 'package') md.appendMarkdown(stillReferenced(g, c));
    } else if (c.kind === 'package' && c.packageMatched === false) {
      md.appendMarkdown(
        `No path of the closure is named like ${code(spot.element?.text ?? '')}; the cost is the whole definition's.\n\n`,
      );
    } else if (c.carried.length === 0 && c.kind === 'definition') {
      this.counterfactual(md, target, c.at[0]!, size);
    }
    if (c.kind === 'package' && c.packageMatched) {
      // Costs count a package as gone with its list entry; other paths that reference it may keep it (shown here).
      const users = [...new Set(c.carried.flatMap((i) => [...g.referrers(i)]))].filter((r) => !g.isVirtual(r));
      if (users.length > 0) {
        const names = users.slice(0, 4).map((r) => code(displayName(g.name(r))));
        md.appendMarkdown(
          `Referenced by ${names.join(', ')}${users.length > 4 ? ` and ${users.length - 4} more` : ''}.\n\n`,
        );
      }
    }
    const focus = c.lostPaths[0] ?? c.carried[0];
    if (focus !== undefined) {
      const p = g.paths[focus]!;
      md.appendMarkdown(
        `${link('Show in sunburst', 'nixClosureLens.showInSunburst', [{ target: target.key, path: p }])} · ` +
          `${link(`Why ${displayName(g.name(focus))}…`, 'nixClosureLens.whyDependsOn', [{ target: target.key, path: p }])}`,
      );
    }
  }
}

/**
 * Why paths that only this definition carries stay in the closure without it: something else references them
 * (w3m under nixos-help). The referrer that collects the option's values (system-path, referencing all of them)
 * is left out when the definition carries several paths.
 */
function stillReferenced(g: ClosureGraph, c: OptionCost): string {
  const own = c.carried.filter((i) => c.sharedWith.every((d) => !d.nodes.includes(i)));
  const lost = new Set(c.lostPaths);
  const lines: string[] = [];
  for (const i of own.filter((x) => !lost.has(x)).slice(0, 3)) {
    const refs = [...g.referrers(i)].filter((r) => !g.isVirtual(r));
    const others =
      c.carried.length > 1 ? refs.filter((r) => !c.carried.every((x) => x === r || g.references(r).includes(x))) : refs;
    const shown = (others.length > 0 ? others : refs).slice(0, 3).map((r) => code(displayName(g.name(r))));
    if (shown.length > 0)
      lines.push(
        `${code(displayName(g.name(i)))} stays: ${shown.join(', ')} ${shown.length === 1 ? 'references' : 'reference'} it too.`,
      );
  }
  return lines.length > 0 ? `${lines.join('  \n')}\n\n` : '';
}

function sharers(defs: readonly Definition[]): string {
  const shown = defs
    .slice(0, 3)
    .map((d) => `${code(d.option)} (${shortFile(d.file)}${d.line === null ? '' : `:${d.line}`})`);
  return defs.length > 3 ? `${shown.join(', ')} and ${defs.length - 3} more` : shown.join(', ');
}

function markdown(): vscode.MarkdownString {
  const md = new vscode.MarkdownString('', true);
  md.isTrusted = { enabledCommands: LINK_COMMANDS };
  return md;
}

export function link(title: string, command: string, args: unknown[]): string {
  return `[${escape(title)}](command:${command}?${encodeURIComponent(JSON.stringify(args))})`;
}

/** `/nix/store/<hash>-source/nixos/modules/x.nix` → `nixos/modules/x.nix`; workspace files relative to their folder. */

function code(s: string): string {
  const ticks = s.includes('`') ? '``' : '`';
  return `${ticks}${s}${ticks}`;
}

function escape(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
