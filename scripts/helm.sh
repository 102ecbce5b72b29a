#!/usr/bin/env bash
# Builds the Helm CLI from source with the Go toolchain (the Go module proxy is the only place
# this project can fetch Helm from: release tarballs are not reachable) and prints its path.
#
# Idempotent: the binary is cached under <repo>/.cache/bin and rebuilt only when it is missing
# or reports another version. Override the version with HELM_VERSION=v3.x.y.
#
#   helm="$(scripts/helm.sh)" && "$helm" lint --strict helm/reseller-auth
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.21.4}"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin_dir="${repo_root}/.cache/bin"
helm_bin="${bin_dir}/helm"

# True when the cached binary exists, runs, and is the requested version.
cached() {
  [[ -x "${helm_bin}" ]] || return 1
  local have
  have="$("${helm_bin}" version --template '{{ .Version }}' 2>/dev/null)" || return 1
  [[ "${have}" == "${HELM_VERSION}" ]]
}

if ! cached; then
  if ! command -v go >/dev/null 2>&1; then
    echo "scripts/helm.sh: Go is not installed; cannot build helm ${HELM_VERSION}" >&2
    exit 127
  fi
  mkdir -p "${bin_dir}"
  echo "scripts/helm.sh: building helm ${HELM_VERSION} with $(go version) (takes a few minutes the first time)" >&2
  # Build into a temporary GOBIN and move the result into place, so that an interrupted build
  # never leaves a half-written binary that the cache check above would trust.
  tmp_bin="$(mktemp -d "${bin_dir}/.build.XXXXXX")"
  trap 'rm -rf "${tmp_bin}"' EXIT
  # CGO off: a static binary, no C toolchain needed. -ldflags stamp the version the way Helm's
  # own Makefile does, so `helm version` (and the cache check) report it.
  CGO_ENABLED=0 GOBIN="${tmp_bin}" go install \
    -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}" \
    "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}" >&2
  mv -f "${tmp_bin}/helm" "${helm_bin}"
  if ! cached; then
    echo "scripts/helm.sh: built ${helm_bin} but it does not report ${HELM_VERSION}" >&2
    exit 1
  fi
fi

echo "${helm_bin}"
