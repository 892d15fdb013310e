#!/usr/bin/env bash
# The README's test command: installs prerequisites, builds, and runs every test project.
# Results land in TestResults/*.trx (read by .ci/run for the pass/fail totals).
set -euo pipefail
cd "$(dirname "$0")/.."

FED_INSTALL_TEST_DEPS=1 bash scripts/install-prerequisites.sh
dotnet build Federation.Orleans.sln -c Release -m:2 -nologo -clp:ErrorsOnly
rm -rf TestResults
dotnet test Federation.Orleans.sln -c Release --no-build -nologo \
  --logger "trx" --logger "console;verbosity=minimal" --results-directory TestResults "$@"
