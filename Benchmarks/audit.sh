#!/usr/bin/env bash
# Benchmarks/audit.sh [PODS]   (default 10000)
#
# Times `pullwarden audit` of the release binary on a generated node (Benchmarks/audit-input.py: PODS
# pods of 3 containers, 100 namespaces with a pull Secret each, 300 images, the kubelet's records),
# with and without --images, in text, JSON and YAML. Whole-process wall time, best of 3; nothing is
# asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
pods="${1:-10000}"
binary="$(scripts/build-release)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 Benchmarks/audit-input.py "$work" --pods "$pods"
cd "$work"
best() {
  local best_ms=""
  for _ in 1 2 3; do
    local start end ms
    start=$(date +%s%N)
    "$binary" audit "$@" >/dev/null 2>&1 || true
    end=$(date +%s%N)
    ms=$(((end - start) / 1000000))
    if [ -z "$best_ms" ] || [ "$ms" -lt "$best_ms" ]; then best_ms=$ms; fi
  done
  echo "$best_ms"
}
common=(--pods pods.json --secrets secrets.json --records-dir image_manager)
printf 'pods.json: %s bytes, %s pods\n' "$(stat -c %s pods.json)" "$pods"
printf '%-40s %8s ms\n' "audit --images (text)" "$(best "${common[@]}" --images images.json)"
printf '%-40s %8s ms\n' "audit --images -o json" "$(best "${common[@]}" --images images.json -o json)"
printf '%-40s %8s ms\n' "audit --images -o yaml" "$(best "${common[@]}" --images images.json -o yaml)"
printf '%-40s %8s ms\n' "audit, record names (text)" "$(best "${common[@]}")"
