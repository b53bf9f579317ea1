#!/usr/bin/env bash
# make-rootfs.sh DIR — build a minimal busybox rootfs at DIR.
#
# Uses the host's static busybox (Debian package busybox-static, /bin/busybox).
# The binary is copied (never symlinked to the host); every applet is a
# relative symlink DIR/bin/<applet> -> busybox. The tree is built in a
# temporary sibling directory and renamed into place, so an interrupted build
# never leaves a half-made rootfs at DIR.
set -euo pipefail

if [[ $# -ne 1 || -z "$1" ]]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi

dest=${1%/}
busybox=${BUSYBOX:-/bin/busybox}

if [[ ! -x "$busybox" ]]; then
  echo "make-rootfs: $busybox not found (apt-get install busybox-static)" >&2
  exit 1
fi
# A dynamically linked busybox would need the host's libc inside the rootfs.
if lddout=$(LC_ALL=C ldd "$busybox" 2>&1) \
   && ! grep -qE 'not a dynamic|statically linked' <<<"$lddout"; then
  echo "make-rootfs: $busybox is not statically linked (install busybox-static)" >&2
  exit 1
fi

parent=$(dirname -- "$dest")
mkdir -p -- "$parent"
tmp=$(mktemp -d -- "$parent/.rootfs.tmp.XXXXXX")
old=""
cleanup() {
  [[ -n "$tmp" && -e "$tmp" ]] && rm -rf -- "$tmp"
  [[ -n "$old" && -e "$old" ]] && rm -rf -- "$old"
  return 0
}
trap cleanup EXIT

chmod 0755 "$tmp"
mkdir -p "$tmp"/{bin,proc,sys,dev,etc,root,run,var,tmp}
chmod 1777 "$tmp/tmp"
chmod 0700 "$tmp/root"

cp -- "$busybox" "$tmp/bin/busybox"
chmod 0755 "$tmp/bin/busybox"

count=0
while IFS= read -r applet; do
  [[ -z "$applet" || "$applet" == busybox || "$applet" == */* ]] && continue
  ln -s busybox "$tmp/bin/$applet"
  count=$((count + 1))
done < <("$tmp/bin/busybox" --list)

for a in sh true ls cat id hostname env sleep ps mount; do
  if [[ ! -L "$tmp/bin/$a" ]]; then
    echo "make-rootfs: busybox lacks the '$a' applet" >&2
    exit 1
  fi
done

cat > "$tmp/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat > "$tmp/etc/group" <<'EOF'
root:x:0:
tty:x:5:
nogroup:x:65534:
EOF
chmod 0644 "$tmp/etc/passwd" "$tmp/etc/group"

# Swap into place. A fresh DIR is a single rename; an existing one is moved
# aside first (both renames are atomic) and removed afterwards.
if [[ -e "$dest" || -L "$dest" ]]; then
  old=$(mktemp -u -- "$parent/.rootfs.old.XXXXXX")
  mv -T -- "$dest" "$old"
fi
mv -T -- "$tmp" "$dest"
tmp=""
echo "make-rootfs: $dest ($count applets)" >&2
