#!/usr/bin/env bash
# CI for the editor integrations: the VS Code extension's clean install, typecheck, lint, unit
# tests and packaging. Needs node 20 or newer and npm; run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/../editors/vscode"
npm ci
npm run typecheck
npm run lint
npm test
npm run package </dev/null
