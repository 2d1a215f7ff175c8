/**
 * The why panel's "Precise" button, on the host side: for each edge of a chain the files inside the referrer that
 * hold the dependency's hash (core's `findReferences`, cancellable and bounded in time), and opening one hit:
 * a text file at the hit's line, anything else (a binary, a symlink) as a hex excerpt in an untitled document.
 */
import * as vscode from 'vscode';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { findReferences, hexExcerpt, isText, lineAndColumn, TEXT_LINE } from '../core/precise';
import { MAX_PRECISE_HITS, type PreciseEdge, type PreciseHit } from '../shared/protocol';

/** A search that runs longer is stopped: nothing hangs, and the edge says why it has no hits. */
export const PRECISE_TIMEOUT_MS = 60_000;
/** Text files larger than this open as a hex excerpt too (an editor on 100 MB of text helps nobody). */
const MAX_TEXT_BYTES = 16 * 1024 * 1024;
/** Bytes shown on each side of the hash in a hex excerpt. */
const HEX_MARGIN = 256;

/** The hits of every edge of `chain`; an edge whose referrer cannot be read carries the reason instead. */
export async function preciseEdges(chain: readonly string[], signal: AbortSignal): Promise<PreciseEdge[]> {
  const edges: PreciseEdge[] = [];
  for (let k = 0; k + 1 < chain.length; k++) {
    const from = chain[k]!;
    const to = chain[k + 1]!;
    try {
      const found = await findReferences(from, [to], { signal });
      edges.push({ from, to, hits: (found.get(to) ?? []).slice(0, MAX_PRECISE_HITS) });
    } catch (e) {
      if (signal.aborted) throw e;
      const err = e as { message?: string; fix?: string };
      edges.push({ from, to, hits: [], error: `${err.message ?? String(e)}${err.fix ? ` (${err.fix})` : ''}` });
    }
  }
  return edges;
}

/** Runs `preciseEdges` with a timeout, behind a cancellable progress notification. */
export function searchWithProgress(chain: readonly string[], outer: AbortSignal): Thenable<PreciseEdge[]> {
  return vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `Closure Lens: looking for references in ${chain.length - 1} store path${chain.length === 2 ? '' : 's'}…`,
      cancellable: true,
    },
    async (_progress, token) => {
      const signal = AbortSignal.any([outer, AbortSignal.timeout(PRECISE_TIMEOUT_MS), cancelSignal(token)]);
      return preciseEdges(chain, signal);
    },
  );
}

function cancelSignal(token: vscode.CancellationToken): AbortSignal {
  const c = new AbortController();
  token.onCancellationRequested(() => c.abort());
  return c.signal;
}

/** The absolute file of a hit; `/` is the referrer itself (a store path that is one file). */
export function hitFile(referrer: string, file: string): string {
  return file === '/' ? referrer : path.join(referrer, file);
}

/** Opens a hit: a text file at the hash (selected), anything else as a hex excerpt around it. */
export async function openReference(referrer: string, hit: PreciseHit): Promise<void> {
  const abs = hitFile(referrer, hit.file);
  if (hit.kind === 'file') {
    const st = await fs.stat(abs);
    const bytes = st.size <= MAX_TEXT_BYTES ? await fs.readFile(abs) : undefined;
    if (bytes && isText(bytes)) {
      const start = positionAt(bytes, hit.offset);
      const end = positionAt(bytes, hit.offset + hit.hash.length);
      const editor = await vscode.window.showTextDocument(vscode.Uri.file(abs), {
        viewColumn: vscode.ViewColumn.One,
        selection: new vscode.Range(start, end),
        preview: true,
      });
      editor.revealRange(new vscode.Range(start, end), vscode.TextEditorRevealType.InCenter);
      // The store is read-only on disk; say so in the editor too (the command is missing in old VS Code).
      await vscode.commands
        .executeCommand('workbench.action.files.setActiveEditorReadonlyInSession')
        .then(undefined, () => undefined);
      return;
    }
    const file = await fs.open(abs, 'r');
    try {
      const from = Math.max(0, hit.offset - HEX_MARGIN);
      const buf = Buffer.alloc(Math.min(st.size - from, hit.offset - from + hit.hash.length + HEX_MARGIN));
      await file.read(buf, 0, buf.length, from);
      await showExcerpt(abs, hexExcerpt(buf, from), hit, hit.offset - from);
    } finally {
      await file.close();
    }
    return;
  }
  const target = await fs.readlink(abs, { encoding: 'buffer' });
  await showExcerpt(abs, hexExcerpt(target, 0), hit, hit.offset);
}

/** An untitled document with the excerpt, the hash selected in its text line (`at`: the hash's byte in it). */
async function showExcerpt(abs: string, excerpt: string, hit: PreciseHit, at: number): Promise<void> {
  const header = `# ${abs}: the hash ${hit.hash} at byte ${hit.offset}${hit.kind === 'symlink' ? ' of the link target' : ''}\n`;
  const content = header + excerpt;
  const doc = await vscode.workspace.openTextDocument({ content, language: 'plaintext' });
  const hashAt = content.lastIndexOf(TEXT_LINE) + TEXT_LINE.length + at;
  const sel = new vscode.Range(doc.positionAt(hashAt), doc.positionAt(hashAt + hit.hash.length));
  await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, selection: sel, preview: true });
}

function positionAt(bytes: Buffer, offset: number): vscode.Position {
  const p = lineAndColumn(bytes, offset);
  return new vscode.Position(p.line, p.character);
}
