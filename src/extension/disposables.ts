/** Lifetime bookkeeping: everything an object registers is disposed with it, once, in reverse order. */
import type * as vscode from 'vscode';

export class DisposableStore implements vscode.Disposable {
  private readonly items: vscode.Disposable[] = [];
  private disposed = false;

  add<T extends vscode.Disposable>(item: T): T {
    if (this.disposed) item.dispose();
    else this.items.push(item);
    return item;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const item of this.items.splice(0).reverse()) {
      try {
        item.dispose();
      } catch (err) {
        console.error('Nix Closure Lens: dispose failed', err);
      }
    }
  }
}

/** Base class for services that own disposables. */
export abstract class Disposable implements vscode.Disposable {
  protected readonly disposables = new DisposableStore();

  protected register<T extends vscode.Disposable>(item: T): T {
    return this.disposables.add(item);
  }

  dispose(): void {
    this.disposables.dispose();
  }
}
