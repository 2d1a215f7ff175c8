import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bindingAt, definitionsOf, scanNixFile, type ScanResult } from '../../src/core/nixSyntax';
import { tokenize } from '../../src/core/nixSyntax';

/** path → line of every definition, for compact assertions. */
function defLines(scan: ScanResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const b of scan.bindings) if (b.kind === 'definition') out[b.path.join('.')] ??= b.line;
  return out;
}

/** The 1-based line of the first line containing `needle`. */
function lineOf(src: string, needle: string): number {
  const i = src.indexOf(needle);
  assert.ok(i >= 0, `fixture text lacks ${needle}`);
  return src.slice(0, i).split('\n').length;
}

describe('Nix lexer', () => {
  it('keeps strings with nested interpolation, escapes and indented strings as one token', () => {
    const src = [
      'x = "a ${ "b ${c} }" } \\" ; d";',
      "y = ''",
      "  has ''' and ''${not} and ${ { a = 1; }.a } ;",
      "'';",
      '# comment with x = 1;',
      '/* block; z = 2; */ w = 3;',
    ].join('\n');
    const toks = tokenize(src);
    const strings = toks.filter((t) => t.kind === 'string');
    assert.equal(strings.length, 2);
    assert.equal(strings[0]!.text, '"a ${ "b ${c} }" } \\" ; d"');
    assert.equal(strings[0]!.value, null);
    assert.ok(strings[1]!.text.endsWith("''"));
    assert.deepEqual(
      toks.filter((t) => t.kind === 'id').map((t) => t.text),
      ['x', 'y', 'w'],
    );
    assert.equal(toks.find((t) => t.text === 'w')!.line, 6);
  });

  it('tells paths, URIs, division and the update operator apart', () => {
    const kinds = (s: string) => tokenize(s).map((t) => `${t.kind}:${t.text}`);
    assert.deepEqual(kinds('./a.nix ../b/c.nix /etc/x <nixpkgs> ~/y'), [
      'path:./a.nix',
      'path:../b/c.nix',
      'path:/etc/x',
      'path:<nixpkgs>',
      'path:~/y',
    ]);
    assert.deepEqual(kinds('a // b'), ['id:a', 'op://', 'id:b']);
    assert.deepEqual(kinds('a / b'), ['id:a', 'op:/', 'id:b']);
    assert.deepEqual(kinds('https://example.org/x'), ['uri:https://example.org/x']);
    assert.deepEqual(kinds("a-b'c"), ["id:a-b'c"]);
  });
});

describe('Nix attribute-path scanner', () => {
  it('finds nested sets, dotted paths and their lines in a shorthand module', () => {
    const src = `{ config, pkgs, lib, ... }:
{
  networking.hostName = "demo";
  services.nginx = {
    enable = true;
    virtualHosts."example.org" = { root = "/srv"; };
  };
  environment.systemPackages = with pkgs; [ firefox git ];
}
`;
    const scan = scanNixFile(src);
    assert.equal(scan.structured, false);
    assert.deepEqual(defLines(scan), {
      'networking.hostName': 3,
      'services.nginx': 4,
      'services.nginx.enable': 5,
      'services.nginx.virtualHosts.example.org': 6,
      'services.nginx.virtualHosts.example.org.root': 6,
      'environment.systemPackages': 8,
    });
    const pkgsBinding = scan.bindings.find((b) => b.path.join('.') === 'environment.systemPackages')!;
    assert.deepEqual(
      pkgsBinding.elements.map((e) => e.text),
      ['firefox', 'git'],
    );
    assert.equal(src.slice(pkgsBinding.elements[1]!.start, pkgsBinding.elements[1]!.end), 'git');
  });

  it('strips config and reports options as declarations in a structured module', () => {
    const src = `{ config, lib, pkgs, ... }:
let
  cfg = config.services.foo;
  unrelated = { a = 1; };
in
{
  imports = [ ./hardware.nix ../common
    (import ./x.nix) ];
  options.services.foo = {
    enable = lib.mkEnableOption "foo";
    package = lib.mkOption { type = lib.types.package; default = pkgs.foo; };
  };
  config = lib.mkIf cfg.enable (lib.mkMerge [
    { environment.systemPackages = [ cfg.package ]; }
    (lib.mkIf cfg.extra {
      systemd.services.foo.script = ''
        exec \${cfg.package}/bin/foo; echo "done";
      '';
    })
  ]);
}
`;
    const scan = scanNixFile(src);
    assert.equal(scan.structured, true);
    assert.deepEqual(defLines(scan), {
      'environment.systemPackages': lineOf(src, '{ environment.systemPackages'),
      'systemd.services.foo.script': lineOf(src, 'systemd.services.foo.script'),
    });
    const decls = scan.bindings.filter((b) => b.kind === 'declaration').map((b) => b.path.join('.'));
    assert.deepEqual(decls, ['services.foo', 'services.foo.enable', 'services.foo.package']);
    assert.deepEqual(
      scan.imports.map((i) => [i.text, i.line]),
      [
        ['./hardware.nix', 7],
        ['../common', 7],
        ['(import./x.nix)', 8],
      ],
    );
  });

  it('handles rec sets, inherit, let inside values, assert, and `//`', () => {
    const src = `{ pkgs, lib, ... }:
assert pkgs != null;
rec {
  inherit (pkgs) hello;
  users.users.alice = let
    base = { isNormalUser = true; };
  in base // {
    packages = [ pkgs.git ];
  };
  fonts = { packages = with pkgs; [ noto-fonts ]; } // lib.optionalAttrs true {
    fontconfig.enable = false; };
  boot.initrd.supportedFilesystems = [ "zfs" ]; # pulls in full systemd
}`;
    const scan = scanNixFile(src);
    const lines = defLines(scan);
    assert.equal(lines['hello'], undefined, 'inherit at the module level is not an option definition');
    assert.equal(lines['users.users.alice'], 5);
    assert.equal(lines['users.users.alice.packages'], 8);
    assert.equal(lines['users.users.alice.isNormalUser'], undefined, 'let-bound sets are not definitions');
    assert.equal(lines['fonts.packages'], 10);
    assert.equal(lines['fonts.fontconfig.enable'], 11);
    assert.equal(lines['boot.initrd.supportedFilesystems'], 12);
  });

  it('skips values that contain semicolons in strings, lets, with and nested functions', () => {
    const src = `{
  a = let x = 1; y = 2; in x + y;
  b = with lib; with pkgs; [ (writeText "n" "a;b") ];
  c = x: { y = 1; }.y;
  d = "\${ let q = 1; in toString q };";
  e.f = ''
    multi ; line
    \${ "nested ''; string" }
  '';
  g = 1;
}`;
    assert.deepEqual(defLines(scanNixFile(src)), { a: 2, b: 3, c: 4, d: 5, 'e.f': 6, g: 10 });
  });

  it('reads modules that are property functions of sets, behind any function header', () => {
    const src = `args@{ lib, pkgs, ... }:
lib.mkMerge [
  { environment.systemPackages = [ pkgs.git ]; }
  (lib.mkIf true {
    environment.systemPackages = [ ];
  })
  { config.services.foo.enable = true; options.x = lib.mkOption { }; }
]
`;
    const scan = scanNixFile(src);
    assert.deepEqual(
      scan.bindings.map((b) => [b.kind, b.path.join('.'), b.line]),
      [
        ['definition', 'environment.systemPackages', 3],
        ['definition', 'environment.systemPackages', 5],
        ['definition', 'services.foo.enable', 7],
        ['declaration', 'x', 7],
      ],
    );
    assert.equal(definitionsOf(scan, ['environment', 'systemPackages']).length, 2);
  });

  it('finds the definition for an option path, and the binding under the cursor', () => {
    const src = `{ pkgs, ... }: {
  users.users = {
    alice.packages = [ pkgs.git ];
    bob = { packages = [ pkgs.ripgrep ]; };
  };
  environment.etc."nginx/nginx.conf".text = "x";
}`;
    const scan = scanNixFile(src);
    assert.equal(definitionsOf(scan, ['users', 'users', 'alice', 'packages'])[0]!.line, 3);
    assert.equal(definitionsOf(scan, ['users', 'users', 'bob', 'packages'])[0]!.line, 4);
    // An option defined through its attributes (attrsOf): the bindings below it.
    assert.deepEqual(
      definitionsOf(scan, ['environment', 'etc']).map((b) => b.line),
      [6],
    );
    const at = bindingAt(scan, src.indexOf('ripgrep'));
    assert.deepEqual(at?.path, ['users', 'users', 'bob', 'packages']);
  });

  it('scans every fixture module: each definition line starts with its attribute', () => {
    const dir = join(__dirname, '../../../test/fixtures/modules/nixos/modules');
    const files = [
      'misc/documentation.nix',
      'services/web-servers/nginx.nix',
      'tasks/filesystems/zfs.nix',
      'config/system-path.nix',
      'config/fonts.nix',
    ];
    const expected: Record<string, string[]> = {
      'misc/documentation.nix': ['environment.systemPackages', 'environment.systemPackages'],
      'services/web-servers/nginx.nix': ['environment.etc.nginx/nginx.conf.source', 'systemd.services.nginx.script'],
      'tasks/filesystems/zfs.nix': ['boot.initrd.packages', 'environment.systemPackages'],
      'config/system-path.nix': ['environment.systemPackages', 'system.path'],
      'config/fonts.nix': ['fonts.packages', 'environment.systemPackages', 'environment.etc.fonts/fonts.conf.source'],
    };
    for (const f of files) {
      const src = readFileSync(join(dir, f), 'utf8');
      const scan = scanNixFile(src);
      const defs = scan.bindings.filter((b) => b.kind === 'definition');
      assert.deepEqual(
        defs.map((b) => b.path.join('.')),
        expected[f],
        f,
      );
      const lines = src.split('\n');
      for (const b of defs) {
        const lastName = b.path[b.path.length - 1]!;
        assert.ok(lines[b.line - 1]!.includes(b.path.length > 1 ? b.path[0]! : lastName), `${f}:${b.line}`);
      }
    }
  });
});
