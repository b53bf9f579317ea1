#!/usr/bin/env bash
# scripts/engines/setup.sh — install the container engines Debian 12 ships
# (podman, containerd, docker.io) and what they need to run containers as
# root on this host, for test/engines/.
#
# Idempotent: apt-get runs only when a package is missing, so after the first
# time this takes a fraction of a second. Progress goes to stderr.
#
# Nothing is started or enabled: the packages' init scripts are kept from
# starting system daemons (policy-rc.d), and the tests start private ones.
set -euo pipefail

ENGINE_PACKAGES=(
  podman conmon golang-github-containers-common catatonit  # podman, its monitor, its config, --init
  netavark aardvark-dns containernetworking-plugins slirp4netns uidmap  # podman's networks
  containerd                                              # containerd and ctr
  docker.io tini                                          # dockerd, docker, docker-init
  iptables iproute2 util-linux                            # bridges and NAT, ip netns, nsenter and script
  runc                                                    # the reference runtime (ENGINE_RUNTIME=runc)
)

say() { printf 'engines-setup: %s\n' "$*" >&2; }
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

missing_packages() {
  local installed pkg
  installed=" $(dpkg-query -W -f='${Package}:${Status}\n' "$@" 2>/dev/null \
    | sed -n 's/^\([^:]*\):install ok installed$/\1/p' | tr '\n' ' ' || true) "
  for pkg in "$@"; do [[ "$installed" == *" $pkg "* ]] || printf '%s\n' "$pkg"; done
}

main() {
  local missing
  mapfile -t missing < <(missing_packages "${ENGINE_PACKAGES[@]}")
  if ((${#missing[@]})); then
    say "installing Debian packages (first time: a minute or two): ${missing[*]}"
    # Keep the packages' postinst from starting dockerd/containerd on the host.
    local policy=/usr/sbin/policy-rc.d added_policy=
    if [[ ! -e $policy ]]; then
      printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
      as_root chmod 755 "$policy"
      added_policy=1
    fi
    local rc=0
    { as_root apt-get update -qq >&2 \
      && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
           --no-install-recommends "${missing[@]}" >&2; } || rc=$?
    [[ -n $added_policy ]] && as_root rm -f "$policy"
    ((rc == 0)) || { say "apt-get failed ($rc)"; exit "$rc"; }
    say "installed"
  fi
  # A package's init script may still have started a system daemon (when
  # policy-rc.d was someone else's and allowed it): the tests want none.
  local d
  for d in dockerd containerd; do
    if [[ -e /etc/init.d/${d%d} || -e /etc/init.d/$d ]] && pgrep -x "$d" >/dev/null 2>&1; then
      say "note: a system $d is running; the tests use private ones and leave it alone"
    fi
  done
  for d in podman ctr containerd containerd-shim-runc-v2 dockerd docker conmon; do
    command -v "$d" >/dev/null || { say "error: $d is not on PATH after installing"; exit 1; }
  done
}

main "$@"
