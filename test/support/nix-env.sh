# Sourced by the test and bench scripts: real Nix, offline, fast fixture builds.
export NIX_CONFIG=$'experimental-features = nix-command flakes\nsubstituters =\nsandbox = false\nfsync-metadata = false\nbuild-users-group =\n'
