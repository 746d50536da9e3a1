#!/usr/bin/env bash
# Installs modelmon's build and test dependencies from Debian 12 packages. Idempotent: does nothing
# when everything is already installed. Run as root (or with sudo).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libboost-dev prometheus-cpp-dev nlohmann-json3-dev libspdlog-dev libyaml-cpp-dev
  libsimdjson-dev libcli11-dev libssl-dev openssl libgtest-dev libgmock-dev libbenchmark-dev
  python3-scipy python3-sklearn python3-matplotlib prometheus prometheus-alertmanager curl
  clang-14 libclang-rt-14-dev clang-format libeigen3-dev
  python3-fastapi python3-starlette python3-httpx python3-uvicorn
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
