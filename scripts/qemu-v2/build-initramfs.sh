#!/usr/bin/env bash
# build-initramfs.sh KVER OUT [MODDIR] — the qemu-v2 guest's initramfs (uncompressed
# newc cpio): static busybox and its applets, the boot-critical modules of kernel KVER
# (from MODDIR, default /lib/modules/KVER) in dependency order, and ./init. run.sh
# calls it when the cached one is stale.
set -euo pipefail
here=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
kver=$1 out=$2
moddir=${3:-/lib/modules/$kver}
[ -f "$moddir/modules.dep" ] || { echo "build-initramfs: no $moddir/modules.dep" >&2; exit 1; }

busybox=$(command -v busybox || true)
[ -n "$busybox" ] && file -L "$busybox" | grep -q 'statically linked' ||
	{ echo "build-initramfs: needs a static busybox (apt-get install busybox-static)" >&2; exit 1; }

# What the guest needs before the host root is mounted (and overlay, cheap):
# virtio_pci pulls virtio_ring, virtio, the virtio_pci_*_dev helpers;
# 9p pulls netfs and fscache. Anything else loads on demand (qv2-modprobe).
want=(virtio_ring virtio virtio_pci 9pnet 9pnet_virtio 9p overlay)

declare -A deps=() path=() done=()
while IFS= read -r line; do
	mod=${line%%:*} rest=${line#*:}
	name=${mod##*/}; name=${name%%.ko*}
	path[$name]=$mod
	deps[$name]=$rest
done <"$moddir/modules.dep"

order=()
visit() {
	local name=${1//-/_} d dn
	[ -n "${done[$name]:-}" ] && return
	done[$name]=1
	if [ -z "${path[$name]:-}" ]; then
		# built in, or unknown: fine if built in
		grep -q "/$name.ko" "$moddir/modules.builtin" 2>/dev/null ||
			echo "build-initramfs: warning: module $name not found for $kver" >&2
		return
	fi
	for d in ${deps[$name]}; do
		dn=${d##*/}; dn=${dn%%.ko*}
		visit "$dn"
	done
	order+=("$name")
}
for m in "${want[@]}"; do visit "$m"; done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/qemu-v2-initramfs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{bin,sbin,dev,proc,sys,newroot,tmp,lib/modules}
cp "$busybox" "$tmp/bin/busybox"
for a in $("$busybox" --list); do
	[ "$a" = busybox ] || ln -s busybox "$tmp/bin/$a"
done
mknod -m 600 "$tmp/dev/console" c 5 1
mknod -m 666 "$tmp/dev/null" c 1 3
: >"$tmp/lib/modules/load.list"
for m in "${order[@]}"; do
	cp "$moddir/${path[$m]}" "$tmp/lib/modules/"
	echo "$(basename "${path[$m]}")" >>"$tmp/lib/modules/load.list"
done
install -m 755 "$here/init" "$tmp/init"
install -m 755 "$here/qv2-modprobe" "$tmp/sbin/qv2-modprobe"
install -m 755 "$here/systemd-run.sh" "$tmp/qv2-systemd-run.sh"

mkdir -p "$(dirname -- "$out")"
(cd "$tmp" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$out.tmp"
mv "$out.tmp" "$out"
echo "build-initramfs: $out ($(du -h "$out" | cut -f1), modules: ${order[*]})" >&2
