# Bench closures: one builtins.derivation per node of a generated graph (bench/generate.ts writes the spec).
# `spec` is the absolute path of a JSON file { nodes: [ { name, size, refs: [index, ...] } ] } in dependency
# order (every ref is an earlier index), so realising the derivations in index order never waits on a later one.
{ spec }:
let
  s = builtins.fromJSON (builtins.readFile spec);
  inherit (builtins) concatStringsSep elemAt genList length map toString;
  # Doubling a string pads the output to `size` bytes with shell builtins only (the builder has no PATH).
  pad = ''
    n=$1; s=x; while [ "$n" -gt 0 ]; do if [ $((n % 2)) -eq 1 ]; then printf %s "$s" >> "$out"; fi; s="$s$s"; n=$((n / 2)); done
  '';
  mk = i: node: builtins.derivation {
    inherit (node) name;
    system = "x86_64-linux";
    builder = "/bin/sh";
    # writing a dependency's store path into $out is what makes it a reference
    args = [ "-c" ''
      set -- ${toString node.size}
      echo "bench node ${toString i}" > "$out"
      ${concatStringsSep "\n" (map (j: "echo ${elemAt drvs j} >> \"$out\"") node.refs)}
      ${pad}
    '' ];
  };
  drvs = genList (i: mk i (elemAt s.nodes i)) (length s.nodes);
in
{
  # one attribute, because `nix eval --file` auto-calls the file's function only when given an attribute path
  result = {
    drvPaths = map (d: d.drvPath) drvs;
    outPaths = map (d: d.outPath) drvs;
  };
}
