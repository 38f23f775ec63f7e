#!/usr/bin/env bash
# install-containerd.sh: containerd 1.6 and ctr from Debian 12 (package `containerd`).
# `script` (bsdutils) gives the tty scenarios a terminal.
set -euo pipefail
. "$(dirname "$0")/install-lib.sh"
apt_install containerd bsdutils
containerd --version
