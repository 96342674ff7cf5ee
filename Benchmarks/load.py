#!/usr/bin/env python3
"""Verifier lookups while providers write: one `pullwarden verify --batch` process answers requests
one at a time (each request written, its answer read, the round trip timed) while WRITERS threads
keep starting `pullwarden provide` processes against the same records directory, for SECONDS.

    load.py BINARY WORKDIR WRITERS SECONDS

Prints one JSON line: lookup latency p50/p99/max in microseconds, lookups, provides, failed calls
(any provide that did not exit 0, any verifier answer that is not well formed or is an error: a torn
read would be an unreadable record), and lost updates (after the run, every provider's Secret must be
in its image's record). Writers are bounded in time; everything runs on this machine.
"""
import json
import os
import subprocess
import sys
import threading
import time

# The writers run in a process of their own (this script with --writers), so their threads never
# hold the interpreter lock the timed lookups need.
writer_process = sys.argv[1] == "--writers"
if writer_process:
    sys.argv.pop(1)
binary, work, writers, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
images = 8
records = os.path.join(work, "records")
os.makedirs(work, exist_ok=True)


def secret_yaml(index):
    config = '{"auths":{"registry.example.com":{"username":"u-%d","password":"u-%d-pw"}}}' % (index, index)
    return ("apiVersion: v1\nkind: Secret\ntype: kubernetes.io/dockerconfigjson\n"
            "metadata: {name: pull-%d, namespace: team, uid: uid-%d}\nstringData:\n  .dockerconfigjson: '%s'\n" % (index, index, config))


def pod_line(index):
    return json.dumps({"image": "registry.example.com/app-%d:v1" % (index % images), "podSecrets": [
        {"namespace": "other", "name": "copy", "uid": "x", "dockerConfigJSON": {
            "auths": {"registry.example.com": {"username": "u-%d" % index, "password": "u-%d-pw" % index}}}}]})


for index in range(writers if not writer_process else 0):
    os.makedirs(os.path.join(work, "secrets-%d" % index), exist_ok=True)
    with open(os.path.join(work, "secrets-%d" % index, "pull.yaml"), "w") as f:
        f.write(secret_yaml(index))
    with open(os.path.join(work, "config-%d.yaml" % index), "w") as f:
        f.write("recordsDir: %s\nsources: [{name: s, type: secretFiles, matchImages: [registry.example.com], "
                "directory: %s, cacheDuration: 1000h}]\n" % (records, os.path.join(work, "secrets-%d" % index)))
    with open(os.path.join(work, "request-%d.json" % index), "w") as f:
        f.write(json.dumps({"kind": "CredentialProviderRequest", "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
                            "image": "registry.example.com/app-%d" % (index % images)}) + "\n")


warnings = []
# With --nice-writers the providers run at nice 10: the figure then shows what the store costs a lookup
# (locks, I/O, torn files), not how a 2-core machine shares its CPUs between 50 spawning writers.
NICE = ["nice", "-n", "10"] if os.environ.get("LOAD_NICE_WRITERS") == "1" else []


def provide(index):
    with open(os.path.join(work, "request-%d.json" % index), "rb") as request:
        run = subprocess.run(NICE + [binary, "provide", "--config", os.path.join(work, "config-%d.yaml" % index)],
                             stdin=request, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if run.stderr:
        warnings.append(run.stderr.decode(errors="replace").strip())
    return run.returncode


stop = time.monotonic() + seconds
counts = {"provides": 0, "failed": 0}
lock = threading.Lock()


# With LOAD_WRITER_PAUSE=SECONDS each writer waits that long after every provide, so the providers
# come at about the same rate whatever a provide costs: the closed loop (no pause) lets a faster
# provide start more of them, and on 2 cores that alone moves the lookups' tail.
PAUSE = float(os.environ.get("LOAD_WRITER_PAUSE", "0"))


def writer(index):
    while time.monotonic() < stop:
        status = provide(index)
        if PAUSE:
            time.sleep(PAUSE)
        with lock:
            counts["provides"] += 1
            counts["failed"] += status != 0


if writer_process:
    threads = [threading.Thread(target=writer, args=(i,), daemon=True) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps({"provides": counts["provides"], "failed": counts["failed"], "warnings": warnings[:1],
                      "warning_count": len(warnings)}))
    sys.exit(0)

# Every image has a record before the verifier starts.
for index in range(min(writers, images)):
    assert provide(index) == 0, "the first provide failed"

verifier = subprocess.Popen([binary, "verify", "--batch", "--records-dir", records, "--policy", "AlwaysVerify"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
writer_run = subprocess.Popen([sys.executable, __file__, "--writers", binary, work, str(writers), str(seconds)],
                              stdout=subprocess.PIPE)
latencies, bad_answers, lookup = [], 0, 0
while time.monotonic() < stop:
    line = (pod_line(lookup % writers) + "\n").encode()
    started = time.perf_counter_ns()
    verifier.stdin.write(line)
    verifier.stdin.flush()
    answer = verifier.stdout.readline()
    latencies.append((time.perf_counter_ns() - started) / 1000)
    lookup += 1
    try:
        reason = json.loads(answer).get("reason")
        bad_answers += reason in (None, "error", "recordUnreadable")
    except ValueError:
        bad_answers += 1
written = json.loads(writer_run.communicate()[0])
counts["provides"], counts["failed"] = written["provides"], written["failed"]
warnings = written["warnings"]
warning_count = written["warning_count"]
verifier.stdin.close()
verifier.wait()

# Lost updates: every writer's Secret must be in its image's record.
check = subprocess.run([binary, "verify", "--batch", "--records-dir", records, "--policy", "AlwaysVerify"],
                       input="".join(pod_line(i) + "\n" for i in range(writers)).encode(), stdout=subprocess.PIPE)
lost = sum(json.loads(line).get("mustPull") is not False for line in check.stdout.splitlines())

latencies.sort()
pick = lambda q: round(latencies[min(len(latencies) - 1, int(len(latencies) * q))], 1) if latencies else None
print(json.dumps({
    "label": "verify --batch lookups while %d providers write" % writers
             + (", pausing %g s between provides" % PAUSE if PAUSE else ""),
    "lookup_p50_us": pick(0.5), "lookup_p99_us": pick(0.99), "lookup_max_us": pick(1.0), "lookups": len(latencies),
    "provides": counts["provides"], "failed_calls": counts["failed"] + bad_answers, "lost_updates": lost,
    "seconds": seconds, "writers": writers, "provide_warnings": warning_count,
    "first_warning": warnings[0][:300] if warnings else None}))
