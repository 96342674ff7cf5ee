#!/usr/bin/env bash
# Median latency of one `pullwarden provide` that does an RFC 8693 token exchange against the local
# HTTPS token service (the tests' token-server.py), beside `curl` making the same POST to the same
# server, and `provide` answered from a file (no libcurl) for reference. Whole process, fork to exit,
# measured with spawnbench; the server's own time (Python, one TLS handshake per call) is in both.
#
#   Benchmarks/token-exchange.sh            # uses the release build (scripts/build-release)
#   RUNS=500 PULLWARDEN_BIN=path LABEL_SUFFIX=", variant" Benchmarks/token-exchange.sh
#
# Needs gcc, python3, openssl and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-200}
binary=${PULLWARDEN_BIN:-$(scripts/build-release)}
suffix=${LABEL_SUFFIX:-}

work="$(mktemp -d)"
server_pid=""
cleanup() {
  exec 3>&- 2>/dev/null || true          # closing the server's stdin stops it
  [ -n "$server_pid" ] && wait "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

gcc -O2 -o "$work/spawnbench" Benchmarks/spawnbench.c

mkfifo "$work/hold"
python3 Sources/FixtureKit/Resources/token-server.py --dir "$work/server" --lifetime 600 < "$work/hold" > "$work/server.json" &
server_pid=$!
exec 3> "$work/hold"
for _ in $(seq 100); do [ -s "$work/server.json" ] && break; sleep 0.1; done
read -r url ca < <(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["url"], s["caFile"])' "$work/server.json")

token=$(python3 - <<'PY'
import base64, json, time
b = lambda o: base64.urlsafe_b64encode(json.dumps(o).encode()).rstrip(b"=").decode()
claims = {"aud": ["sts.example.com"], "exp": int(time.time()) + 3600, "sub": "system:serviceaccount:team-a:builder",
          "kubernetes.io": {"namespace": "team-a", "serviceaccount": {"name": "builder", "uid": "uid-1"}}}
print(b({"alg": "RS256"}) + "." + b(claims) + ".c2ln")
PY
)
cat > "$work/exchange.yaml" <<YAML
sources:
  - name: exchange
    type: tokenExchange
    matchImages: ["registry.example.com"]
    endpoint: $url/token
    audience: registry.example.com
    username: oauth2
    caFile: $ca
YAML
printf '{"auths":{"registry.example.com":{"username":"u","password":"p"}}}' > "$work/docker.json"
printf 'sources: [{name: node, type: dockerConfig, matchImages: [registry.example.com], path: %s}]\n' "$work/docker.json" > "$work/files.yaml"
printf '{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"registry.example.com/team/app","serviceAccountToken":"%s"}\n' "$token" > "$work/request.json"
printf 'grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type%%3Atoken-exchange&subject_token=%s&subject_token_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Atoken-type%%3Ajwt&audience=registry.example.com' "$token" > "$work/form"

# Sanity: both must succeed before timing.
"$binary" provide --config "$work/exchange.yaml" < "$work/request.json" | grep -q '"password":"exchanged:' || { echo "provide did not exchange"; exit 1; }
curl -sS --fail --cacert "$ca" --data @"$work/form" "$url/token" | grep -q access_token || { echo "curl did not exchange"; exit 1; }

bench() { "$work/spawnbench" --runs "$runs" --warmup 20 --label "$1" --stdin "$work/request.json" -- "${@:2}"; }
bench "pullwarden provide (dockerConfig, no HTTP)$suffix" "$binary" provide --config "$work/files.yaml"
bench "pullwarden provide (tokenExchange over TLS)$suffix" "$binary" provide --config "$work/exchange.yaml"
bench "curl, the same POST" "$(command -v curl)" -sS --fail -o /dev/null --cacert "$ca" --data @"$work/form" "$url/token"
