#!/usr/bin/env bash
# install-all.sh: every client the e2e suite drives (containerd, Docker, podman).
set -euo pipefail
here=$(dirname "$0")
"$here/install-containerd.sh"
"$here/install-docker.sh"
"$here/install-podman.sh"
