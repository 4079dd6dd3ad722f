#!/usr/bin/env bash
# Installs every Debian package that building, running and testing brook needs.
# Idempotent and quick when everything is present: it asks dpkg first and only calls
# apt-get for what is missing (with sudo when not root).
set -euo pipefail

PKGS=(
  # toolchain
  build-essential cmake pkg-config clang libclang-rt-14-dev valgrind
  # libraries brook links
  libmicrohttpd-dev libcurl4-openssl-dev libyaml-dev libjansson-dev libyajl-dev libssl-dev
  libuv1-dev librdkafka-dev libzstd-dev liblz4-dev libsnappy-dev zlib1g-dev
  # tests
  libcmocka-dev python3 curl kcat python3-kafka python3-cassandra python3-avro
  python3-confluent-kafka python3-requests libpq-dev
  postgresql
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
