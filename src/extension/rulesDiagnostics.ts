/**
 * Broken rules of `.closure-lens.json` as diagnostics on the rule's line, with the chain (and the option) that
 * breaks it. Re-checked when a closure is loaded and while a rules file is edited. The checking is core/rules.ts.
 * In an untrusted folder no rules file is read at all: its patterns and targets come from the repository, and a
 * repository must not make the editor do work on opening. Granting trust checks them.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ClosureAnalysis } from '../core/analysis/closure';
import type { OriginLookup } from '../core/diff/diff';
import { formatBytes, type SizeStyle } from '../shared/format';
import {
  diagnoseRulesFile,
  RULES_FILE_NAME,
  type CheckedClosure,
  type ClosureIdentity,
  type CompressionCodec,
  type RuleDiagnostic,
} from '../core/rules';
import { Disposable } from './disposables';

/** A closure the user loaded, as the rules see it. */
export interface LoadedForRules {
  readonly id: ClosureIdentity;
  readonly analysis: ClosureAnalysis;
  readonly origin?: OriginLookup;
}

export const RULES_DIAGNOSTIC_SOURCE = 'closure-lens';
/** Closures kept for re-checking when a rules file changes; the oldest goes first. */
const REMEMBERED = 8;

export class RulesDiagnostics extends Disposable {
  private readonly collection = this.register(vscode.languages.createDiagnosticCollection('closure-lens-rules'));
  private readonly closures: LoadedForRules[] = [];
  /** Compressed sizes estimated per root path, for `maxCompressedSize` budgets. */
  private readonly compressed = new Map<string, Partial<Record<CompressionCodec, number>>>();
  private readonly pending = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(private readonly sizeStyle: () => SizeStyle = () => 'iec') {
    super();
    const watcher = this.register(vscode.workspace.createFileSystemWatcher(`**/${RULES_FILE_NAME}`));
    this.register(watcher.onDidCreate((uri) => void this.refreshFile(uri)));
    this.register(watcher.onDidChange((uri) => void this.refreshFile(uri)));
    this.register(watcher.onDidDelete((uri) => this.collection.delete(uri)));
    this.register(
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (isRulesFile(e.document.uri)) this.schedule(e.document);
      }),
    );
    this.register(
      vscode.workspace.onDidOpenTextDocument((doc) => {
        if (isRulesFile(doc.uri)) this.refreshDocument(doc);
      }),
    );
    this.register(vscode.workspace.onDidGrantWorkspaceTrust(() => void this.refreshAll()));
    for (const doc of vscode.workspace.textDocuments) if (isRulesFile(doc.uri)) this.refreshDocument(doc);
  }

  /** Call when a closure was loaded: every rules file in the workspace is checked against it. */
  async closureLoaded(closure: LoadedForRules): Promise<void> {
    const i = this.closures.findIndex((c) => sameClosure(c.id, closure.id));
    if (i >= 0) this.closures.splice(i, 1);
    this.closures.push(closure);
    if (this.closures.length > REMEMBERED) this.closures.shift();
    // `maxDuplicates` rules read the duplicates synchronously; found here in slices (shared with the sidebar's search),
    // a 100,000-path closure does not stall the editor for the ~0.7 s one synchronous pass takes.
    await closure.analysis.duplicatesInSlices();
    await this.refreshAll();
  }

  /** Call when the compressed size of a closure was estimated: its `maxCompressedSize` budgets can be checked. */
  async compressedEstimated(rootPath: string, totals: Partial<Record<CompressionCodec, number>>): Promise<void> {
    this.compressed.set(rootPath, { ...this.compressed.get(rootPath), ...totals });
    await this.refreshAll();
  }

  /** The diagnostics of one file, for the in-editor tests. */
  diagnosticsOf(uri: vscode.Uri): readonly vscode.Diagnostic[] {
    return this.collection.get(uri) ?? [];
  }

  async refreshAll(): Promise<void> {
    if (!vscode.workspace.isTrusted) return;
    const files = await vscode.workspace.findFiles(`**/${RULES_FILE_NAME}`, '**/node_modules/**');
    await Promise.all(files.map((f) => this.refreshFile(f)));
  }

  private schedule(doc: vscode.TextDocument): void {
    const key = doc.uri.toString();
    clearTimeout(this.pending.get(key));
    this.pending.set(
      key,
      setTimeout(() => {
        this.pending.delete(key);
        this.refreshDocument(doc);
      }, 300),
    );
  }

  private async refreshFile(uri: vscode.Uri): Promise<void> {
    if (!vscode.workspace.isTrusted) return;
    // An open editor holds the text the user sees, saved or not.
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (open) return this.refreshDocument(open);
    try {
      const bytes = await vscode.workspace.fs.readFile(uri);
      this.publish(uri, new TextDecoder().decode(bytes));
    } catch {
      this.collection.delete(uri);
    }
  }

  private refreshDocument(doc: vscode.TextDocument): void {
    if (doc.isClosed || !vscode.workspace.isTrusted) return;
    this.publish(doc.uri, doc.getText());
  }

  private publish(uri: vscode.Uri, text: string): void {
    const style = this.sizeStyle();
    const checked: CheckedClosure[] = this.closures.map((c) => {
      const compressedSizes = this.compressed.get(c.id.rootPath);
      return {
        id: c.id,
        subject: c.analysis,
        ...(c.origin ? { origin: c.origin } : {}),
        ...(compressedSizes ? { compressedSizes } : {}),
      };
    });
    const found = diagnoseRulesFile(text, path.dirname(uri.fsPath), checked, (n) => formatBytes(n, style));
    this.collection.set(
      uri,
      found.map((d) => toDiagnostic(d, text)),
    );
  }

  override dispose(): void {
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
    super.dispose();
  }
}

function isRulesFile(uri: vscode.Uri): boolean {
  return path.basename(uri.path) === RULES_FILE_NAME;
}

function sameClosure(a: ClosureIdentity, b: ClosureIdentity): boolean {
  return a.installable !== undefined && b.installable !== undefined
    ? a.installable === b.installable && a.cwd === b.cwd
    : a.rootPath === b.rootPath;
}

function toDiagnostic(d: RuleDiagnostic, text: string): vscode.Diagnostic {
  const start = positionAt(text, d.span.offset);
  const end = positionAt(text, d.span.offset + d.span.length);
  const diag = new vscode.Diagnostic(
    new vscode.Range(start, end),
    d.message,
    d.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Error,
  );
  diag.source = RULES_DIAGNOSTIC_SOURCE;
  diag.code = d.code;
  if (d.related.length > 0) {
    diag.relatedInformation = d.related
      .filter((r) => path.isAbsolute(r.file))
      .map(
        (r) =>
          new vscode.DiagnosticRelatedInformation(
            new vscode.Location(vscode.Uri.file(r.file), new vscode.Position(Math.max(0, r.line - 1), 0)),
            r.message,
          ),
      );
  }
  return diag;
}

function positionAt(text: string, offset: number): vscode.Position {
  let line = 0;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return new vscode.Position(line, offset - lineStart);
}
