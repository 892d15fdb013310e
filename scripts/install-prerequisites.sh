#!/usr/bin/env bash
# Installs what the product and its tests need that a fresh machine of this kind may lack.
# Idempotent: packages already present are not touched, and apt is only asked when one is missing.
set -euo pipefail

# Ed25519 is NSec's, with the libsodium its NuGet package carries (runtimes/linux-x64/native/): nothing to install.
packages=(zlib1g openssl)
# The test suite also needs a PostgreSQL server (tests start throwaway clusters) and Debian's chromium (the
# dashboard's browser test drives /usr/bin/chromium with Playwright; no browser is downloaded).
[ "${FED_INSTALL_TEST_DEPS:-0}" = "1" ] && packages+=(postgresql-15 chromium)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done

if ((${#missing[@]} > 0)); then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

command -v dotnet >/dev/null || { echo "the .NET 10 SDK (dotnet) is required" >&2; exit 1; }
