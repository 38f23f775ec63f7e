#!/usr/bin/env bash
# oci-image.sh OUT.tar [NAME]
#
# Writes an image archive of the busybox rootfs (the one hack/mkbundle.sh builds) without a
# registry. The tar is at once
#   - an OCI image layout: oci-layout, index.json (with the io.containerd.image.name and
#     org.opencontainers.image.ref.name annotations), blobs/sha256/{layer,config,manifest};
#   - a docker-save archive: manifest.json naming the same config and layer blobs.
# so `ctr image import`, `docker load` and `podman load` all accept it.
# NAME defaults to docker.io/library/nucleus-busybox:1 (docker.io/library/ is dropped for the
# docker-style RepoTags, where it is implied).
#
# One uncompressed layer; owners are numeric and mtimes fixed, so the same busybox gives the
# same digests. The image's default command is `sh`, PATH is the usual one.
set -euo pipefail
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 OUT.tar [NAME]" >&2; exit 2; }
out=$1
name=${2:-docker.io/library/nucleus-busybox:1}
here=$(cd "$(dirname "$0")" && pwd)
case "$name" in *:*) ;; *) echo "oci-image: NAME needs a tag: $name" >&2; exit 2 ;; esac
tag=${name##*:}
short=${name#docker.io/}
short=${short#library/}

work=$(mktemp -d "${TMPDIR:-/tmp}/oci-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$here/mkbundle.sh" "$work/bundle" >/dev/null
blobs=$work/layout/blobs/sha256
mkdir -p "$blobs"

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
# put FILE: move FILE into blobs/sha256/<digest>, print the digest.
put() {
  local d
  d=$(sha "$1")
  mv "$1" "$blobs/$d"
  echo "$d"
}

# The layer: every entry relative to the rootfs, sorted, numeric owners, fixed mtime.
tar -C "$work/bundle/rootfs" --sort=name --numeric-owner --mtime=@0 \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
  -cf "$work/layer.tar" .
layer_size=$(size "$work/layer.tar")
layer=$(put "$work/layer.tar")

jq -n --arg diff "sha256:$layer" '{
  created: "1970-01-01T00:00:00Z",
  architecture: "amd64",
  os: "linux",
  config: {
    Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    Cmd: ["sh"],
    WorkingDir: "/"
  },
  rootfs: { type: "layers", diff_ids: [$diff] },
  history: [{ created: "1970-01-01T00:00:00Z", created_by: "nucleus hack/oci-image.sh" }]
}' -c >"$work/config.json"
config_size=$(size "$work/config.json")
config=$(put "$work/config.json")

jq -n --arg c "sha256:$config" --argjson cs "$config_size" \
  --arg l "sha256:$layer" --argjson ls "$layer_size" '{
  schemaVersion: 2,
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs },
  layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls }]
}' -c >"$work/manifest"
manifest_size=$(size "$work/manifest")
manifest=$(put "$work/manifest")

jq -n --arg m "sha256:$manifest" --argjson ms "$manifest_size" --arg name "$name" --arg tag "$tag" '{
  schemaVersion: 2,
  manifests: [{
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest: $m, size: $ms,
    annotations: { "io.containerd.image.name": $name, "org.opencontainers.image.ref.name": $tag }
  }]
}' >"$work/layout/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$work/layout/oci-layout"
jq -n --arg c "blobs/sha256/$config" --arg l "blobs/sha256/$layer" --arg t "$short" \
  '[{ Config: $c, RepoTags: [$t], Layers: [$l] }]' >"$work/layout/manifest.json"

tar -C "$work/layout" --sort=name --numeric-owner --mtime=@0 --owner=0 --group=0 \
  -cf "$work/image.tar" oci-layout index.json manifest.json blobs
mv "$work/image.tar" "$out"
echo "$out: $name (manifest sha256:$manifest)"
