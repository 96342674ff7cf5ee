#!/usr/bin/env python3
"""Writes each fuzz target's seed corpus from Fixtures/ (and Fuzz/Seeds/<Target>/) into OUT/<Target>/.

Usage: Fuzz/seeds.py REPO OUT. Seeds are named by content hash, so rerunning changes nothing.
"""
import base64, hashlib, json, os, re, sys

repo, out = sys.argv[1], sys.argv[2]
fixtures = os.path.join(repo, "Fixtures")
seeds = {}


def add(target, data):
    if isinstance(data, str):
        data = data.encode()
    if data and len(data) <= 1 << 20:
        seeds.setdefault(target, set()).add(data)


def files():
    for root, _, names in os.walk(fixtures):
        for name in names:
            yield os.path.join(root, name), os.path.relpath(os.path.join(root, name), fixtures)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def load_json(data):
    try:
        return json.loads(data)
    except Exception:
        return None


images, patterns = set(), set()
for path, rel in files():
    parts = rel.split(os.sep)
    name = parts[-1]
    if "expected-files" in parts or name.startswith(".expected"):
        parts = [p for p in parts if p != "expected-files"]
    data = read(path)
    if name == "request.json" or name == "stdin":
        lines = [data] if name == "request.json" else [l for l in data.split(b"\n") if l.strip()]
        for line in lines:
            request = load_json(line)
            if not isinstance(request, dict):
                continue
            if isinstance(request.get("image"), str):
                images.add(request["image"])
            if parts[0] == "verify":
                add("FuzzVerifyRequest", line)
                add("FuzzVerifyBatch", line)
                for secret in request.get("podSecrets") or []:
                    if isinstance(secret, dict) and isinstance(secret.get("dockerConfigJSON"), dict):
                        add("FuzzDockerConfig", json.dumps(secret["dockerConfigJSON"]))
            else:
                add("FuzzProvideRequest", line)
                token = request.get("serviceAccountToken")
                if isinstance(token, str):
                    add("FuzzJWT", token)
                    for part in token.split(".")[:2]:
                        try:
                            add("FuzzJWT", base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
                        except Exception:
                            pass
        if name == "stdin":
            add("FuzzVerifyBatch", data)
    elif name in ("config.yaml", "config.json") or (name.endswith(".yaml") and "config" in name):
        target = "FuzzConfigJSON" if data.lstrip()[:1] in (b"{", b"[") else "FuzzConfigYAML"
        if b"sources" in data:
            add(target, data)
            patterns.update(re.findall(rb'"([^"]+)"', b"".join(re.findall(rb"matchImages:\s*\[[^\]]*\]", data))))
        elif name == "config.json":
            add("FuzzDockerConfig", data)
    elif name in ("docker-config.json", "dockercfg", "config.json"):
        add("FuzzDockerConfig", data)
    elif "secrets" in parts[:-1] or name.endswith(("-pull.yaml", "-pull.json", "-manifests.yaml")):
        add("FuzzSecretFile", data)
        for encoded in re.findall(rb'\.docker(?:configjson|cfg)"?\s*:\s*"?([A-Za-z0-9+/=]+)', data):
            try:
                add("FuzzDockerConfig", base64.b64decode(encoded))
            except Exception:
                pass
    elif "pulled" in parts[:-1] or "pulling" in parts[:-1]:
        add("FuzzPullRecord", data)
    elif "pullwarden-expiry" in parts[:-1]:
        add("FuzzCredentialExpiry", data)
    if name in ("docker-config.json", "dockercfg"):
        config = load_json(data)
        if isinstance(config, dict):
            patterns.update(k.encode() for k in (config.get("auths") or config).keys() if isinstance(k, str))

for image in images:
    add("FuzzImageReference", image)
for pattern in sorted(patterns)[:200]:
    for image in sorted(images)[:40]:
        add("FuzzImageMatching", pattern + b"\0" + image.encode())

# Handwritten seeds where Fixtures has nothing (intents, odd shapes, pathological globs).
seeds_dir = os.path.join(repo, "Fuzz", "Seeds")
for target in sorted(os.listdir(seeds_dir)) if os.path.isdir(seeds_dir) else []:
    for name in sorted(os.listdir(os.path.join(seeds_dir, target))):
        add(target, read(os.path.join(seeds_dir, target, name)))

for target, items in sorted(seeds.items()):
    directory = os.path.join(out, target)
    os.makedirs(directory, exist_ok=True)
    for data in items:
        with open(os.path.join(directory, hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)
    print(f"{target}: {len(items)} seeds", file=sys.stderr)
