#!/usr/bin/env bash
# The README's main job. Until the simulator lands it is the signing demo: generate a key,
# sign a receipt, verify it offline, and show a tampered copy refused.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-prerequisites.sh
dotnet build src/Federation.Cli -c Release -m:2 -nologo -clp:ErrorsOnly
dotnet src/Federation.Cli/bin/Release/net10.0/fed.dll demo "$@"
