#!/usr/bin/env python3
"""Generates benchmark inputs: a docker config case, a directory of N Secrets, and record stores.

    generate.py docker DIR                 config.yaml + docker-config.json + request.json
    generate.py secrets DIR COUNT          config.yaml + COUNT Secret files + request.json (matches one Secret)
    generate.py records DIR COUNT          DIR/pulled with COUNT kubelet-format records + verify requests
"""
import base64
import hashlib
import json
import os
import sys
import uuid


def write(path, text):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def request(image):
    return json.dumps({"kind": "CredentialProviderRequest",
                       "apiVersion": "credentialprovider.kubelet.k8s.io/v1", "image": image}) + "\n"


def docker(directory):
    auth = base64.b64encode(b"user:password").decode()
    write(f"{directory}/docker-config.json", json.dumps({"auths": {
        "registry.example.com": {"auth": auth},
        "registry.local:5000": {"username": "local", "password": "pw"},
        "https://index.docker.io/v1/": {"username": "hub", "password": "pw"}}}, indent=2) + "\n")
    write(f"{directory}/config.yaml", """recordsDir: records
sources:
  - name: node
    type: dockerConfig
    matchImages: ["*.example.com", "registry.local:5000", "docker.io"]
    path: docker-config.json
""")
    write(f"{directory}/request.json", request("registry.example.com/team/app"))


def secrets(directory, count):
    for i in range(count):
        registry = f"registry{i % 20}.example.com/team-{i}"
        config = {"auths": {registry: {"auth": base64.b64encode(f"user{i}:password-{i}".encode()).decode()}}}
        write(f"{directory}/secrets/pull-{i:04d}.yaml", f"""apiVersion: v1
kind: Secret
metadata:
  name: pull-{i:04d}
  namespace: team-{i}
  uid: {uuid.uuid5(uuid.NAMESPACE_DNS, str(i))}
  resourceVersion: "{1000 + i}"
  creationTimestamp: "2025-01-02T03:04:05Z"
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: {base64.b64encode(json.dumps(config).encode()).decode()}
""")
    write(f"{directory}/config.yaml", """recordsDir: records
sources:
  - name: secrets
    type: secretFiles
    matchImages: ["*.example.com"]
    directory: secrets
""")
    pick = count // 2 + 7 if count > 20 else 0
    write(f"{directory}/request.json", request(f"registry{pick % 20}.example.com/team-{pick}/app"))


def records(directory, count):
    """Kubelet-format pulled records keyed by imageRef, plus single and batch verify requests."""
    os.makedirs(f"{directory}/pulled", mode=0o700, exist_ok=True)
    os.makedirs(f"{directory}/pulling", mode=0o700, exist_ok=True)
    lines = []
    for i in range(count):
        image_ref = f"sha256:{hashlib.sha256(str(i).encode()).hexdigest()}"
        name = f"test.repo/org/image-{i}"
        secret = {"uid": f"uid-{i}", "namespace": f"ns-{i % 50}", "name": f"pull-{i}",
                  "credentialHash": hashlib.sha256(f"cred-{i}".encode()).hexdigest()}
        record = {"kind": "ImagePulledRecord", "apiVersion": "kubelet.config.k8s.io/v1beta1",
                  "lastUpdatedTime": "2025-10-21T12:26:40Z", "imageRef": image_ref,
                  "credentialMapping": {name: {"kubernetesSecrets": [secret]}}}
        file = "sha256-" + hashlib.sha256(image_ref.encode()).hexdigest()
        with open(f"{directory}/pulled/{file}", "w") as f:
            f.write(json.dumps(record, separators=(",", ":")) + "\n")
        os.chmod(f"{directory}/pulled/{file}", 0o600)
        lines.append(json.dumps({"image": f"{name}:latest", "imageRef": image_ref,
                                 "podSecrets": [{k: secret[k] for k in ("namespace", "name", "uid", "credentialHash")}]}))
    write(f"{directory}/verify-one.json", lines[count // 2] + "\n")
    write(f"{directory}/verify-batch.jsonl", "\n".join(lines) + "\n")


if __name__ == "__main__":
    kind, directory = sys.argv[1], sys.argv[2]
    if kind == "docker":
        docker(directory)
    elif kind == "secrets":
        secrets(directory, int(sys.argv[3]))
    elif kind == "records":
        records(directory, int(sys.argv[3]))
    else:
        sys.exit(f"unknown input kind {kind}")
