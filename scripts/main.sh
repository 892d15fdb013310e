#!/usr/bin/env bash
# The README's main job: simulate the M5 baseline federation (the Core state machines on a virtual clock,
# seed 1) and check its artifacts with the M5 compliance validator.
# Usage: bash scripts/main.sh [--out DIR]   (default DIR: artifacts)
set -euo pipefail
cd "$(dirname "$0")/.."

out=artifacts
if [ "${1:-}" = "--out" ] && [ -n "${2:-}" ]; then
  out="$2"
fi

bash scripts/install-prerequisites.sh
dotnet build src/Federation.Cli -c Release -m:2 -nologo -clp:ErrorsOnly
fed="dotnet src/Federation.Cli/bin/Release/net10.0/fed.dll"
$fed simulate --scenario simulations/m5-baseline.json --seed 1 --out "$out"
$fed verify --phase M5 --artifacts "$out"
