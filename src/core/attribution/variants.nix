# Counterfactual variants of a module-system configuration, in one evaluation.
#
# Shipped with Nix Closure Lens and run as
#   nix eval --json -f variants.nix result --argstr flake <locked flake URL> --argstr attrPath '["nixosConfigurations","x"]' \
#     --argstr variants '[{"loc":["boot","initrd","supportedFilesystems"],"index":0}, …]'
# Every argument arrives with --argstr: nothing is spliced into Nix code.
#
# A variant is the configuration without one definition of one option (or, with `element`, without one
# element of a list definition): that option is forced (mkOverride 0) to what its other definitions give,
# or to its default when none remain. For each variant the toplevel's drvPath and outPath are returned
# (evaluating drvPath writes the variant's .drv files, so the caller can read the derivation graph or build
# it). One process evaluates every variant: Nix's parsed files, the package set and every derivation that
# does not change are shared between variants, so a variant costs about one toplevel evaluation.
# A variant that fails (an assertion, a missing value) reports its error message instead.
{
  flake,
  attrPath,
  # JSON list of { loc; index; element ? null; }.
  variants,
}:
let
  inherit (builtins) elemAt foldl' genList length tryEval;

  target = foldl' (v: name: v.${name}) (builtins.getFlake flake) (builtins.fromJSON attrPath);
  showLoc = loc: builtins.concatStringsSep "." loc;
  isDerivation = v: (v.type or null) == "derivation";

  # An option by location, also inside submodules (through valueMeta, nixpkgs 25.11+).
  findOption =
    tree: loc:
    let
      node = tree.${elemAt loc 0} or (throw "closure-lens: no option ${showLoc loc}");
      rest = builtins.tail loc;
    in
    if (node._type or null) == "option" then
      (if rest == [ ] then node else findInMeta (node.valueMeta or { }) rest)
    else
      findOption node rest;
  findInMeta =
    meta: loc:
    if meta ? configuration then
      findOption meta.configuration.options loc
    else if meta ? attrs then
      findInMeta (meta.attrs.${elemAt loc 0} or { }) (builtins.tail loc)
    else
      throw "closure-lens: cannot reach ${showLoc loc} inside a submodule (this nixpkgs has no valueMeta)";

  # The definition without element `k` of its list value.
  withoutElement =
    def: k:
    let
      v = def.value;
    in
    if !(builtins.isList v) then
      throw "closure-lens: the definition is not a list"
    else
      def // { value = genList (j: elemAt v (if j < k then j else j + 1)) (length v - 1); };

  variantOf =
    spec:
    let
      opt = findOption target.options spec.loc;
      defs = opt.definitionsWithLocations;
      element = spec.element or null;
      remaining = builtins.concatLists (
        genList (
          i:
          if i != spec.index then [ (elemAt defs i) ]
          else if element == null then [ ]
          else [ (withoutElement (elemAt defs i) element) ]
        ) (length defs)
      );
      value =
        if remaining != [ ] then opt.type.merge opt.loc remaining
        else if opt ? default then opt.default
        else if opt.type.emptyValue ? value then opt.type.emptyValue.value
        # A throw, not a missing attribute: tryEval below catches only throw and assert.
        else throw "closure-lens: ${showLoc spec.loc} has no value without this definition (no default)";
      # mkOverride 0, written out so that any lib version's module system reads it.
      forced = { _type = "override"; priority = 0; content = value; };
      setAt = path: v: foldl' (acc: name: { ${name} = acc; }) v (genList (i: elemAt path (length path - 1 - i)) (length path));
    in
    target.extendModules { modules = [ { _file = "closure-lens counterfactual"; config = setAt spec.loc forced; } ]; };

  rootOf =
    cfg:
    let
      candidates = [
        (cfg.config.system.build.toplevel or null)
        (cfg.activationPackage or null)
        (cfg.system or null)
      ];
      found = builtins.filter (c: c != null && isDerivation c) candidates;
    in
    if found == [ ] then
      { error = "no toplevel"; }
    else
      {
        drv = builtins.unsafeDiscardStringContext (builtins.head found).drvPath;
        out = builtins.unsafeDiscardStringContext (builtins.head found).outPath;
      };

  # tryEval catches throw and assert; the message of a failed assertion is not available to Nix code, so
  # it is only named as such.
  # Each result is also traced as soon as it is known (one line of JSON), so that the caller can show it
  # before the whole list is done.
  evaluate =
    i: spec:
    let
      reachable = tryEval (builtins.seq (findOption target.options spec.loc).definitionsWithLocations true);
      variant = variantOf spec;
      root = rootOf variant;
      r = tryEval (builtins.deepSeq root root);
      # NixOS stops on failed assertions; their messages say why the variant cannot be built.
      failed = tryEval (
        let
          messages = map (a: a.message) (builtins.filter (a: !a.assertion) (variant.config.assertions or [ ]));
        in
        builtins.deepSeq messages messages
      );
      why =
        if failed.success && failed.value != [ ] then
          "without it an assertion fails: ${builtins.concatStringsSep "; " failed.value}"
        else
          "the configuration does not evaluate without it (a value it needs is missing)";
      out =
        if !reachable.success then
          { error = "the option ${showLoc spec.loc} cannot be reached inside its submodule with this nixpkgs (options have valueMeta from nixpkgs 25.11 on); take the definition out by hand and rebuild"; }
        else if r.success then
          r.value
        else
          { error = why; };
    in
    builtins.trace "closure-lens-variant ${builtins.toJSON ({ inherit i; } // out)}" out;
  specs = builtins.fromJSON variants;
in
{
  result = {
    original = rootOf target;
    variants = genList (i: evaluate i (elemAt specs i)) (length specs);
  };
}
