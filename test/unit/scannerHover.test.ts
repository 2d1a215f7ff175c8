/**
 * Hover positions on tricky Nix: for a cursor anywhere in a module, which option binding (and which package of
 * its list) the hover is about, and where it is silent. Cursors are marked in the sources with `‸` before the
 * character they point at.
 */
import assert from 'node:assert/strict';
import { scanNixFile } from '../../src/core/nixSyntax';
import { elementAttrName, hoverSpotAt } from '../../src/core/attribution';

const CURSOR = '‸';

/** The source without cursor marks, and each mark's offset in it. */
function marked(text: string): { src: string; at: number[] } {
  const parts = text.split(CURSOR);
  const at: number[] = [];
  let offset = 0;
  for (const part of parts.slice(0, -1)) {
    offset += part.length;
    at.push(offset);
  }
  return { src: parts.join(''), at };
}

/** What the hover at each cursor is about: `option` or `option[element]`, or null for no hover. */
function spots(text: string): (string | null)[] {
  const { src, at } = marked(text);
  const scan = scanNixFile(src);
  return at.map((offset) => {
    const spot = hoverSpotAt(src, scan, offset);
    if (!spot) return null;
    const name = spot.binding.path.join('.');
    assert.ok(spot.start <= offset && offset < spot.end, `the hover range holds the cursor at ${offset}`);
    return spot.element ? `${name}[${spot.element.text}]` : name;
  });
}

describe('hover positions in Nix modules', () => {
  it("nested sets: the innermost binding, its name, its leaf value; nothing on a set's blanks", () => {
    const text = `{ config, pkgs, ... }:
{
  ‸services.nginx = {
    ‸enable = ‸true;
    virtualHosts.‸"example.org" = {
      root = "/var/www";
    };
  ‸};
  services.‸openssh.enable = true;
}
`;
    assert.deepEqual(spots(text), [
      'services.nginx',
      'services.nginx.enable',
      'services.nginx.enable',
      'services.nginx.virtualHosts.example.org',
      null,
      'services.openssh.enable',
    ]);
  });

  it('`with pkgs; [ … ]`: the package under the cursor, across lines and comments', () => {
    const text = `{ pkgs, ... }:
{
  environment.systemPackages = with pkgs; [
    ‸firefox
    # a comment: ‸htop
    ‸git‸
    (‸python3.withPackages (ps: [ ps.requests ]))
  ];
  ‸environment.etc."x".text = "y";
}
`;
    assert.deepEqual(spots(text), [
      'environment.systemPackages[firefox]',
      null,
      'environment.systemPackages[git]',
      null,
      'environment.systemPackages[(python3.withPackages(ps:[ps.requests]))]',
      'environment.etc.x.text',
    ]);
  });

  it('`let … in` before the module and inside values, `rec` sets, `inherit`', () => {
    const text = `{ lib, pkgs, ... }:
let
  ‸tools = [ pkgs.jq ];
  port = 8080;
in
{
  ‸networking.firewall.allowedTCPPorts = let p = port; in [ p ];
  users.users.alice = rec {
    ‸home = "/home/\${name}";
    name = "alice";
    ‸packages = tools ++ [ ‸pkgs.ripgrep ];
  };
  environment = { inherit (pkgs) ‸hello; };
}
`;
    assert.deepEqual(spots(text), [
      null,
      'networking.firewall.allowedTCPPorts',
      'users.users.alice.home',
      'users.users.alice.packages',
      'users.users.alice.packages[pkgs.ripgrep]',
      'environment.hello',
    ]);
  });

  it('strings: interpolation and multi-line strings with `;`, `=`, `}` inside do not end a binding', () => {
    const text = `{ config, pkgs, ... }:
{
  environment.etc."motd".text = ''
    Welcome; a = b; } {
    \${config.‸networking.hostName}
    ''\${not interpolated}
  '';
  ‸systemd.services.x.script = "echo \${pkgs.hello}/bin/hello; ‸exit 0";
  ‸boot.kernelParams = [ "quiet" "‸loglevel=3" ];
}
`;
    assert.deepEqual(spots(text), [
      'environment.etc.motd.text',
      'systemd.services.x.script',
      'systemd.services.x.script',
      'boot.kernelParams',
      'boot.kernelParams["loglevel=3"]',
    ]);
  });

  it('comments never hover; imports are not options', () => {
    const text = `# ‸services.nginx.enable = true;
{ ... }:
{
  ‸imports = [ ‸./hardware.nix ];
  /* block ‸comment = 1; */
  ‸documentation.nixos.enable = true; # trailing ‸comment
}
`;
    assert.deepEqual(spots(text), [null, null, null, null, 'documentation.nixos.enable', null]);
  });

  it('structured modules with config = mkIf …, mkMerge parts and options declarations', () => {
    const text = `{ config, lib, pkgs, ... }:
with lib;
{
  options.services.foo.‸enable = mkEnableOption "foo";
  config = mkIf config.services.foo.enable (mkMerge [
    { ‸environment.systemPackages = [ ‸pkgs.foo ]; }
    { systemd.services.‸foo.wantedBy = [ "multi-user.target" ]; }
  ]);
}
`;
    assert.deepEqual(spots(text), [
      'services.foo.enable',
      'environment.systemPackages',
      'environment.systemPackages[pkgs.foo]',
      'systemd.services.foo.wantedBy',
    ]);
  });

  it('the attribute name a list element names', () => {
    assert.equal(elementAttrName('pkgs.w3m'), 'w3m');
    assert.equal(elementAttrName('firefox'), 'firefox');
    assert.equal(elementAttrName('pkgs.gcc-lib'), 'gcc-lib');
    assert.equal(elementAttrName('(python3.withPackages(ps:[ps.requests]))'), 'python3');
    assert.equal(elementAttrName('pkgs.util-linux.bin'), 'util-linux');
    assert.equal(elementAttrName('"quiet"'), undefined);
    assert.equal(elementAttrName('./file.nix'), undefined);
  });
});
