#!/usr/bin/env bash
# scripts/engines/make-image.sh ROOTFS OUTDIR — the busybox rootfs as images
# the engines can load without a registry:
#   OUTDIR/rootfs.tar  a plain rootfs tarball (podman import, docker import)
#   OUTDIR/image.tar   one-layer image archive in both OCI-layout and
#                      docker-save form (ctr image import, podman/docker load)
# Deterministic (sorted names, mtime 0, uid/gid 0), so the digests are stable.
set -euo pipefail
(($# == 2)) || { echo "usage: $0 ROOTFS OUTDIR" >&2; exit 2; }
rootfs=$1 out=$2
[[ -x $rootfs/bin/busybox ]] || { echo "make-image: $rootfs has no bin/busybox" >&2; exit 1; }
mkdir -p "$out"
work=$(mktemp -d "$out/.image.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

# The rootfs has an out/ directory some other tests write into: leave it out.
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --exclude=./out \
  -C "$rootfs" -cf "$work/layer.tar" .
sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }

layer=$(sha "$work/layer.tar")
mkdir -p "$work/img/blobs/sha256"
cp "$work/layer.tar" "$work/img/blobs/sha256/$layer"
printf '%s' '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:'"$layer"'"]},"history":[{"created_by":"tsrunc scripts/engines/make-image.sh"}]}' \
  >"$work/config.json"
config=$(sha "$work/config.json")
cp "$work/config.json" "$work/img/blobs/sha256/$config"
printf '%s' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'"$config"'","size":'"$(size "$work/config.json")"'},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:'"$layer"'","size":'"$(size "$work/layer.tar")"'}]}' \
  >"$work/manifest.json"
manifest=$(sha "$work/manifest.json")
cp "$work/manifest.json" "$work/img/blobs/sha256/$manifest"
printf '%s' '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:'"$manifest"'","size":'"$(size "$work/manifest.json")"',"annotations":{"io.containerd.image.name":"localhost/tsrunc-busybox:test","org.opencontainers.image.ref.name":"test"},"platform":{"architecture":"amd64","os":"linux"}}]}' \
  >"$work/img/index.json"
printf '%s' '{"imageLayoutVersion":"1.0.0"}' >"$work/img/oci-layout"
# docker-save's manifest.json, pointing at the same blobs
printf '%s' '[{"Config":"blobs/sha256/'"$config"'","RepoTags":["localhost/tsrunc-busybox:test"],"Layers":["blobs/sha256/'"$layer"'"]}]' \
  >"$work/img/manifest.json"

tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work/img" -cf "$work/image.tar" .
mv -f "$work/layer.tar" "$out/rootfs.tar"
mv -f "$work/image.tar" "$out/image.tar"
