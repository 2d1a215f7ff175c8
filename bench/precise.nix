# Bench store paths for `--precise`: a 100 MiB file whose one reference to `dep` sits at its very end (the
# worst case: every byte is read), padded with lines that name another store path, as a binary's string table
# would, so the search meets the hash alphabet everywhere. /bin/sh builtins only; the 1 MiB block is doubled.
{ mib ? 100 }:
let
  system = "x86_64-linux";
  other = builtins.derivation { name = "glibc-2.39-52"; inherit system; builder = "/bin/sh"; args = [ "-c" "echo glibc > $out" ]; };
  dep = builtins.derivation { name = "perl-5.38.2"; inherit system; builder = "/bin/sh"; args = [ "-c" "echo perl > $out" ]; };
  # one 128-byte line naming another store path; 2^13 of them make 1 MiB
  prefix = "${other}/lib/libc.so.6 ";
  filler = "0123456789abcdfghijklmnpqrsvwxyz-0123456789abcdfghijklmnpqrsvwxyz-0123456789abcdfghijklmnpqrsvwxyz-0123456789";
  line = prefix + builtins.substring 0 (127 - builtins.stringLength prefix) filler;
  big = builtins.derivation {
    name = "big-${toString mib}M";
    inherit system;
    builder = "/bin/sh";
    args = [ "-c" ''
      s='${line}
      '
      k=0; while [ $k -lt 13 ]; do s="$s$s"; k=$((k + 1)); done
      i=0; while [ $i -lt ${toString mib} ]; do printf %s "$s" >> "$out"; i=$((i + 1)); done
      printf '%s/bin/perl\n' "${dep}" >> "$out"
    '' ];
  };
in
{ result = { big = big.outPath; dep = dep.outPath; drv = big.drvPath; }; }
