#!/usr/bin/env python3
"""Benchmarks/audit-input.py DIR [--pods N] [--namespaces N] [--images N]

Writes a synthetic node (or cluster) for `pullwarden audit` into DIR, as kubectl and crictl print it:
pods.json (kubectl get pods -o json: N pods of 2 containers and 1 init container each, a quarter with
imagePullPolicy Always on one container, a tenth with no pull Secret), secrets.json (one dockerconfigjson
pull Secret per namespace, plus an Opaque Secret), images.json (crictl images -o json: every image but
a few on the node) and image_manager/ (the kubelet's pulled records: most images pulled with one team's
Secret, some node-wide, some not recorded, i.e. preloaded). Deterministic: the same arguments give the
same bytes. The passwords are made up for the benchmark.
"""
import argparse
import base64
import hashlib
import json
import os


def credential_hash(username, password):
    return hashlib.sha256(json.dumps({"username": username, "password": password}, separators=(",", ":")).encode()).hexdigest()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--namespaces", type=int, default=100)
    parser.add_argument("--images", type=int, default=300)
    args = parser.parse_args()
    os.makedirs(args.dir + "/image_manager/pulled", mode=0o700, exist_ok=True)
    os.makedirs(args.dir + "/image_manager/pulling", mode=0o700, exist_ok=True)

    registry = "registry.example.com"
    namespaces = [f"team-{n:03d}" for n in range(args.namespaces)]
    secrets, hashes = [], {}
    for ns in namespaces:
        user, password = f"{ns}-robot", f"{ns}-benchmark-password"
        hashes[ns] = credential_hash(user, password)
        auth = base64.b64encode(f"{user}:{password}".encode()).decode()
        config = json.dumps({"auths": {registry: {"auth": auth}}})
        secrets.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"namespace": ns, "name": "regcred", "uid": f"uid-{ns}-regcred"},
                        "type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": base64.b64encode(config.encode()).decode()}})
        secrets.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"namespace": ns, "name": "settings", "uid": f"uid-{ns}-settings"},
                        "type": "Opaque", "data": {"key": base64.b64encode(b"value").decode()}})

    images, crictl = [], []
    for i in range(args.images):
        owner = namespaces[i % len(namespaces)]
        name = f"{registry}/{owner}/app-{i}"
        tag = f"v{i % 7}"
        ref = "sha256:" + hashlib.sha256(f"{name}:{tag}".encode()).hexdigest()
        images.append((f"{name}:{tag}", owner))
        if i % 50 != 49:  # a few images are not on the node
            crictl.append({"id": ref, "repoTags": [f"{name}:{tag}"], "repoDigests": [f"{name}@sha256:" + hashlib.sha256(ref.encode()).hexdigest()],
                           "size": "1000000", "uid": None, "username": "", "spec": None, "pinned": False})
        if i % 10 == 9:
            mapping = None  # preloaded: no record
        elif i % 10 == 8:
            mapping = {name: {"nodePodsAccessible": True}}
        else:
            mapping = {name: {"kubernetesSecrets": [{"uid": f"uid-{owner}-regcred", "namespace": owner, "name": "regcred", "credentialHash": hashes[owner]}]}}
        if mapping is not None:
            record = {"kind": "ImagePulledRecord", "apiVersion": "kubelet.config.k8s.io/v1beta1", "lastUpdatedTime": "2026-11-30T10:00:00Z",
                      "imageRef": ref, "credentialMapping": mapping}
            path = f"{args.dir}/image_manager/pulled/sha256-" + hashlib.sha256(ref.encode()).hexdigest()
            with open(path, "w") as f:
                f.write(json.dumps(record, separators=(",", ":")) + "\n")
            os.chmod(path, 0o600)

    pods = []
    for p in range(args.pods):
        ns = namespaces[p % len(namespaces)]
        # Mostly the namespace's own images, sometimes another team's (those re-pull or fail).
        own = [img for img, owner in images if owner == ns] or [images[0][0]]
        main_image = own[p % len(own)] if p % 13 else images[(p * 7) % len(images)][0]
        sidecar = images[(p * 31) % len(images)][0]
        spec = {"nodeName": "node-1", "serviceAccountName": "default",
                "initContainers": [{"name": "init", "image": main_image, "imagePullPolicy": "IfNotPresent"}],
                "containers": [{"name": "app", "image": main_image, "imagePullPolicy": "IfNotPresent"},
                               {"name": "sidecar", "image": sidecar, "imagePullPolicy": "Always" if p % 4 == 0 else "IfNotPresent"}]}
        if p % 10:
            spec["imagePullSecrets"] = [{"name": "regcred"}]
        pods.append({"apiVersion": "v1", "kind": "Pod",
                     "metadata": {"namespace": ns, "name": f"pod-{p}", "uid": f"uid-pod-{p}", "labels": {"app": f"app-{p % 50}"}},
                     "spec": spec, "status": {"phase": "Running"}})

    for name, value in [("pods.json", {"apiVersion": "v1", "kind": "List", "items": pods}),
                        ("secrets.json", {"apiVersion": "v1", "kind": "List", "items": secrets}),
                        ("images.json", {"images": crictl})]:
        with open(f"{args.dir}/{name}", "w") as f:
            json.dump(value, f, indent=4)


if __name__ == "__main__":
    main()
