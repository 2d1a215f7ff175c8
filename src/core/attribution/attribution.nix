# Option attribution: which option definitions carry which store paths.
#
# Shipped with Nix Closure Lens and run as
#   nix eval --json -f attribution.nix result --argstr flake <locked flake URL> --argstr attrPath '["nixosConfigurations","x"]' …
# Every argument arrives with --argstr: nothing is spliced into Nix code.
#
# It walks `options` of a module-system configuration (NixOS, home-manager, nix-darwin) and, for every
# option, reads definitionsWithLocations ([{ file; value; }], after mkIf/mkMerge/overrides). In each
# value it collects store paths: derivations (their outPath, without descending), lists and attribute sets
# of them, and strings with context. Submodule values (attrsOf submodule, …) are walked through
# valueMeta (nixpkgs 25.11+) so that users.users.<name>.packages is its own option; without valueMeta
# (and for freeform submodules such as system.build) the raw definitions are split by attribute.
# Options that only their default defines are not read (that would instantiate every package option's
# default) unless includeDefaults = "1"; they only name their packages. Everything is guarded with
# tryEval and bounded in depth and size, and nothing is forced that the answer does not need.
#
# Counterfactual variants (the configuration without a definition) are evaluated by variants.nix.
{
  flake,
  attrPath,
  # Definitions from files under this prefix are reported even when they carry no store path
  # (they are the user's own; counterfactual evaluation can cost them).
  userPrefix ? "",
  # "1": also read definitions that are only option defaults (slow on NixOS: every mkPackageOption).
  includeDefaults ? "0",
  maxDepth ? "12",
}:
let
  inherit (builtins)
    attrNames concatMap elemAt filter foldl' genList getContext hasContext isAttrs isList
    isString length listToAttrs stringLength substring tryEval typeOf unsafeDiscardStringContext
    ;

  target = foldl' (v: name: v.${name}) (builtins.getFlake flake) (builtins.fromJSON attrPath);
  depthLimit = builtins.fromJSON maxDepth;
  withDefaults = includeDefaults == "1";

  # Bounds on the work per definition value.
  maxListLength = 5000;
  maxAttrCount = 1000;

  storeDir = builtins.storeDir;
  storePathRegex = "(${storeDir}/[0-9a-z]{32}-[-.+_?=0-9a-zA-Z]+)";

  isPrefix = p: s: p != "" && substring 0 (stringLength p) s == p;
  try = v: default: let r = tryEval v; in if r.success then r.value else default;
  isDerivation = v: (v.type or null) == "derivation";

  # Attribute sets that hold all of nixpkgs (or a big slice of it), or the module system itself.
  isPackageSetLike =
    v:
    (v._type or null) == "pkgs"
    || (v._type or null) == "configuration"
    || v ? callPackage
    || v ? __splicedPackages
    || v ? newScope
    || (v ? lib && v ? stdenv)
    || (v ? extendModules && v ? options);

  # Store paths in a string with context: the paths written in it (outputs of derivations appear
  # literally), plus plain store paths of the context (sources). Derivations whose outputs do not
  # appear in the text are returned as .drv paths; the caller maps them through the graph's derivers.
  fromString =
    s:
    if !(hasContext s) then
      { paths = [ ]; drvs = [ ]; }
    else
      let
        ctx = getContext s;
        names = attrNames ctx;
        written = map (m: unsafeDiscardStringContext (elemAt m 0)) (filter isList (builtins.split storePathRegex s));
      in
      {
        paths = written ++ filter (p: ctx.${p}.path or false) names;
        drvs = filter (p: ctx.${p} ? outputs || (ctx.${p}.allOutputs or false)) names;
      };

  empty = { paths = [ ]; drvs = [ ]; truncated = false; };
  join = rs: {
    paths = concatMap (r: r.paths) rs;
    drvs = concatMap (r: r.drvs) rs;
    truncated = foldl' (a: r: a || r.truncated) false rs;
  };

  # Store paths in a definition value. Each step is guarded: a value that throws contributes nothing.
  collect =
    depth: v:
    let
      t = tryEval (typeOf v);
    in
    if !t.success then
      empty
    else if depth > depthLimit then
      empty // { truncated = true; }
    else if t.value == "string" then
      (fromString v) // { truncated = false; }
    else if t.value == "list" then
      let
        n = length v;
        kept = if n > maxListLength then maxListLength else n;
      in
      (join (genList (i: collect (depth + 1) (elemAt v i)) kept)) // (if n > kept then { truncated = true; } else { })
    else if t.value == "set" then
      let
        drv = tryEval (isDerivation v);
      in
      if !drv.success then
        empty
      else if drv.value then
        let
          out = tryEval (unsafeDiscardStringContext v.outPath);
        in
        if out.success then { paths = [ out.value ]; drvs = [ ]; truncated = false; } else empty
      else if try (isPackageSetLike v) true then
        empty
      else if v ? outPath then
        let
          out = tryEval (toString v.outPath);
        in
        if out.success && isString out.value then (fromString out.value) // { truncated = false; } else empty
      else
        let
          names = attrNames v;
          n = length names;
        in
        if n > maxAttrCount then
          empty // { truncated = true; }
        else
          join (map (name: if name == "_module" then empty else collect (depth + 1) v.${name}) names)
    else
      empty;

  showLoc = loc: builtins.concatStringsSep "." loc;

  # A list definition in the user's files: the store paths of each element, so that each element (a package
  # of environment.systemPackages) can be its own row with its own line and cost. Bounded like `collect`.
  maxElements = 200;
  elementsOf =
    file: v:
    let
      isList' = try (isList v) false;
      n = if isList' then try (length v) 0 else 0;
      one =
        k:
        let
          found = collect 1 (elemAt v k);
        in
        { paths = uniqueStrings found.paths; drvs = uniqueStrings found.drvs; };
    in
    if !(isPrefix userPrefix file) || !isList' || n < 2 || n > maxElements then
      { }
    else
      { elements = genList one n; };

  uniqueStrings = xs: attrNames (listToAttrs (map (x: { name = x; value = null; }) xs));

  # Store-path names (`<name>` or `<name>-<output>`) of the derivations in a value, without their
  # outPaths: reading `name` does not instantiate a derivation. Only derivations, lists and small sets.
  collectNames =
    depth: v:
    let
      t = tryEval (typeOf v);
    in
    if !t.success || depth > 4 then
      [ ]
    else if t.value == "list" then
      concatMap (collectNames (depth + 1)) (if length v > 200 then [ ] else v)
    else if t.value == "set" then
      let
        drv = tryEval (isDerivation v);
        name = tryEval (
          let
            output = v.outputName or "out";
          in
          if output == "out" then v.name else "${v.name}-${output}"
        );
      in
      if !drv.success then
        [ ]
      else if drv.value then
        (if name.success && isString name.value then [ (unsafeDiscardStringContext name.value) ] else [ ])
      else if try (isPackageSetLike v) true || length (attrNames v) > 50 then
        [ ]
      else
        concatMap (n: collectNames (depth + 1) v.${n}) (attrNames v)
    else
      [ ];

  # Options not worth reading: the package set and module arguments.
  skipped = loc: (loc != [ ] && (elemAt loc 0 == "_module" || elemAt loc 0 == "nixpkgs"));

  declarationsOf =
    opt:
    try (
      if opt ? declarationPositions then
        map (p: { file = toString p.file; line = p.line or null; column = p.column or null; }) opt.declarationPositions
      else
        map (f: { file = toString f; line = null; column = null; }) opt.declarations
    ) [ ];

  # Submodule evaluations below an option, from valueMeta (nixpkgs 25.11+ and the test fixture).
  subConfigurations =
    meta:
    if !(isAttrs meta) then
      [ ]
    else if meta ? configuration then
      [ meta.configuration ]
    else if meta ? attrs then
      concatMap (name: subConfigurations meta.attrs.${name}) (attrNames meta.attrs)
    else if meta ? list then
      concatMap subConfigurations meta.list
    else
      [ ];

  hasSubmodules = opt: try ((opt.type.getSubModules or null) != null) false;

  # One option: its definitions with their store paths (or its submodules' options).
  visitOption =
    opt:
    let
      loc = try (opt.loc or [ ]) [ ];
      subs = if hasSubmodules opt then try (subConfigurations (opt.valueMeta or null)) [ ] else [ ];
      defaultOnly = try ((opt.highestPrio or 100) >= 1500) false;
      defs = try (opt.definitionsWithLocations or [ ]) [ ];
      visitDef =
        i:
        let
          def = elemAt defs i;
          file = try (toString def.file) "<unknown-file>";
          found = collect 0 def.value;
          paths = builtins.attrNames (listToAttrs (map (p: { name = p; value = null; }) found.paths));
          drvs = builtins.attrNames (listToAttrs (map (p: { name = p; value = null; }) found.drvs));
        in
        if paths != [ ] || drvs != [ ] || isPrefix userPrefix file then
          [ ({ inherit file paths drvs; index = i; inherit (found) truncated; } // elementsOf file def.value) ]
        else
          [ ];
      readDefs = !defaultOnly || withDefaults;
      visited = if readDefs then concatMap visitDef (genList (i: i) (length defs)) else [ ];
      # A default that is not read still names its packages (cheap: no derivation is instantiated),
      # so that a path it may carry is not counted as only another definition's.
      defaultNames = if readDefs then [ ] else uniqueStrings (concatMap (d: collectNames 0 (d.value or null)) defs);
    in
    if skipped loc then
      [ ]
    else if subs != [ ] then
      concatMap (c: walk (try (c.options or { }) { })) subs ++ freeformOptions opt loc defs subs
    else if hasSubmodules opt && !(opt ? valueMeta) && readDefs then
      legacySubmoduleOptions opt loc defs
    else if visited == [ ] && defaultNames == [ ] then
      [ ]
    else
      [
        {
          inherit loc defaultNames;
          option = showLoc loc;
          type = try (opt.type.name or null) null;
          declarations = declarationsOf opt;
          definitions = visited;
        }
      ];

  # Before nixpkgs 25.11 options have no valueMeta: a submodule option's definitions are read raw and
  # split by attribute (users.users.<name>.<option>), one level below the submodule, so that each
  # carries its own location. Properties (mkIf, mkMerge, mkOverride, mkOrder) are looked through.
  contentsOf =
    v:
    let
      t = try (if isAttrs v then v._type or "" else "") "";
    in
    if t == "if" then
      (if try (v.condition == true) false then contentsOf v.content else [ ])
    else if t == "merge" then
      concatMap contentsOf (try v.contents [ ])
    else if t == "override" || t == "order" then
      contentsOf v.content
    else
      [ v ];
  moduleConfig =
    m:
    if !(try (isAttrs m) false) then
      { }
    else if m ? config || m ? options then
      try (if isAttrs m.config then m.config else { }) { }
    else
      removeAttrs m [ "imports" "_file" "key" "options" "disabledModules" "meta" ];
  splitModule =
    prefix: m:
    let
      cfg = moduleConfig m;
    in
    concatMap (a: map (x: { loc = prefix ++ [ a ]; value = x; }) (contentsOf cfg.${a})) (try (attrNames cfg) [ ]);
  legacySubmoduleOptions =
    opt: loc: defs:
    let
      typeName = try (opt.type.name or "") "";
      perName = typeName == "attrsOf" || typeName == "lazyAttrsOf";
      pieces =
        i:
        let
          def = elemAt defs i;
          file = try (toString def.file) "<unknown-file>";
          values = contentsOf def.value;
          parts =
            if perName then
              concatMap (c: concatMap (n: concatMap (splitModule (loc ++ [ n ])) (contentsOf c.${n})) (try (attrNames c) [ ])) values
            else if typeName == "submodule" then
              concatMap (splitModule loc) values
            else
              [ { inherit loc; value = def.value; } ];
        in
        concatMap (
          part:
          let
            found = collect 0 part.value;
            paths = uniqueStrings found.paths;
            drvs = uniqueStrings found.drvs;
          in
          if paths != [ ] || drvs != [ ] || isPrefix userPrefix file then
            [ { inherit (part) loc; definition = { inherit file paths drvs; index = i; inherit (found) truncated; }; } ]
          else
            [ ]
        ) (try parts [ ]);
      all = concatMap pieces (genList (i: i) (length defs));
      grouped = builtins.groupBy (p: showLoc p.loc) all;
    in
    map (name: {
      loc = (builtins.head grouped.${name}).loc;
      option = name;
      type = null;
      declarations = declarationsOf opt;
      definitions = map (p: p.definition) grouped.${name};
      defaultNames = [ ];
    }) (attrNames grouped);

  # A freeform submodule (NixOS's system.build) keeps undeclared attributes as plain config, not as
  # options: read them from the raw definitions, like a submodule without valueMeta.
  freeformOptions =
    opt: loc: defs: subs:
    let
      c = builtins.head subs;
      freeform = try ((c._module.freeformType or null) != null) false;
      declared = try (c.options or { }) { };
      single = try ((opt.type.name or "") == "submodule") false;
    in
    if !(freeform && single && length subs == 1) then
      [ ]
    else
      filter (e: !(declared ? ${elemAt e.loc (length loc)})) (legacySubmoduleOptions opt loc defs);

  # The options tree: an attribute set of options and of subtrees.
  walk =
    tree:
    concatMap (
      name:
      let
        node = tryEval tree.${name};
        v = node.value;
        kind = tryEval (
          if !(isAttrs v) then "other"
          else if (v._type or null) == "option" then "option"
          else "tree"
        );
      in
      if !node.success || !kind.success || name == "_module" then
        [ ]
      else if kind.value == "option" then
        visitOption v
      else if kind.value == "tree" then
        walk v
      else
        [ ]
    ) (try (attrNames tree) [ ]);

  rootOf =
    cfg:
    let
      candidates = [
        (try (cfg.config.system.build.toplevel or null) null)
        (try (cfg.activationPackage or null) null)
        (try (cfg.system or null) null)
      ];
      found = filter (c: c != null && try (isDerivation c) false) candidates;
    in
    if found == [ ] then
      null
    else
      let
        drv = builtins.head found;
      in
      # Not named outPath: JSON output would turn an attribute set with `outPath` into that string.
      {
        drv = try (unsafeDiscardStringContext drv.drvPath) null;
        out = try (unsafeDiscardStringContext drv.outPath) null;
      };

in
{
  result =
    if !(isAttrs target && target ? options && target ? config) then
      { error = "not-a-configuration"; attributes = if isAttrs target then attrNames target else [ ]; }
    else
      {
        root = rootOf target;
        options = walk target.options;
      };
}
