#!/usr/bin/env bash
# install-lib.sh: sourced by install-*.sh. apt_install PKG... installs Debian packages without
# letting their maintainer scripts start daemons: the e2e scripts start every daemon themselves,
# with private state directories, and stop it again. A policy-rc.d that answers 101 ("action
# forbidden") is put in place only if none exists, and removed afterwards.
set -euo pipefail

apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}" >&2
  local policy=/usr/sbin/policy-rc.d made_policy=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# temporary, from nucleus hack/clients: no daemon starts during apt-get\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    made_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  local rc=0
  apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
    { apt-get update >&2 && apt-get install -y --no-install-recommends "${missing[@]}" >&2; } || rc=$?
  [ -n "$made_policy" ] && rm -f "$policy"
  return $rc
}
