#!/usr/bin/env bash
# install-docker.sh: Docker 20.10 from Debian 12 (package `docker.io`: dockerd and the CLI at
# /usr/bin/docker; it pulls in containerd, which dockerd-start.sh starts privately).
set -euo pipefail
. "$(dirname "$0")/install-lib.sh"
apt_install docker.io containerd bsdutils
/usr/bin/docker --version
