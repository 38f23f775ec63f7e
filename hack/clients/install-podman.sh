#!/usr/bin/env bash
# install-podman.sh: podman 4.3 and conmon from Debian 12. Only `--network none` is used, so no
# network plugins are needed beyond what podman depends on.
set -euo pipefail
. "$(dirname "$0")/install-lib.sh"
apt_install podman conmon bsdutils
podman --version
