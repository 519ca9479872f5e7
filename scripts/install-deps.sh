#!/bin/bash
# Installs the Debian packages the build, tests and demo need, only if missing.
set -e
pkgs=(gcc make pkg-config protobuf-c-compiler libprotobuf-c-dev libarchive-dev
      libcap-dev zlib1g-dev libnftables-dev busybox-static criu util-linux clang python3 python3-protobuf time iproute2 runc)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing missing packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
