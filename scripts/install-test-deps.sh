#!/usr/bin/env bash
# Installs what `cargo test --workspace` needs beyond Rust to run every test rather
# than skip some: a Vulkan driver for the WGPU backend-equality tests
# (crates/gr-model/tests/backends.rs). On a machine without a GPU that is Mesa's
# software Vulkan driver lavapipe, from the distribution's packages. .ci/run calls it.
#
#   scripts/install-test-deps.sh           # installs if missing; exit 0 when present after
#   scripts/install-test-deps.sh --check   # only says whether it is present (exit 0/1)
#
# Needs apt-get (Debian, Ubuntu) and root or password-less sudo; otherwise it says what
# to run and exits 1. Without a Vulkan driver the tests still pass: the WGPU ones are
# skipped with a message saying so.
set -euo pipefail

PACKAGES=(mesa-vulkan-drivers)
say() { echo "install-test-deps: $*" >&2; }

# A Vulkan loader and at least one installable client driver (ICD) manifest.
vulkan_present() {
  ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1' || return 1
  local d
  for d in /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d; do
    compgen -G "$d/*.json" >/dev/null && return 0
  done
  return 1
}

describe() {
  local v
  for p in "${PACKAGES[@]}" libvulkan1; do
    v=$(dpkg-query -W -f '${Version}' "$p" 2>/dev/null || true)
    [ -n "$v" ] && say "$p $v"
  done
  say "Vulkan drivers: $(ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>/dev/null | grep json | tr '\n' ' ')"
}

if vulkan_present; then
  say "a Vulkan loader and driver are present"
  describe
  exit 0
fi
if [ "${1:-}" = --check ]; then
  say "no Vulkan loader or driver: the WGPU tests will be skipped"
  exit 1
fi

if ! command -v apt-get >/dev/null; then
  say "no Vulkan driver, and no apt-get to install one: install your distribution's"
  say "Mesa Vulkan drivers (lavapipe; e.g. Fedora: mesa-vulkan-drivers, Arch: vulkan-swrast)"
  say "or a GPU's driver; until then the WGPU tests are skipped"
  exit 1
fi
if [ "$(id -u)" = 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  say "no Vulkan driver; installing one needs root. Run as root (or with sudo):"
  say "  apt-get update && apt-get install -y --no-install-recommends ${PACKAGES[*]}"
  say "until then the WGPU tests are skipped"
  exit 1
fi

say "installing ${PACKAGES[*]} (Mesa's software Vulkan driver, lavapipe)"
export DEBIAN_FRONTEND=noninteractive
# The package lists may be missing (fresh containers) or stale: update first.
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
if ! vulkan_present; then
  say "installed ${PACKAGES[*]} but still find no Vulkan loader or driver"
  exit 1
fi
describe
