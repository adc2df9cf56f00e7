#!/usr/bin/env python3
"""A stdio JSON-RPC service that misbehaves on purpose, one way per mode, for the RPC client's tests.

    python3 misbehaving_service.py MODE [ARG]

Every mode answers `ping` properly (so a test can show the service was fine until it was not), then:

  echo [jsonrpc]      answers every method with {"method", "params"}; logs each request on stderr;
                      with `jsonrpc`, replies carry "jsonrpc": "2.0"
  reverse N           holds requests until N have come, then answers them last first
  exit-mid-call       writes a reason on stderr and exits 3
  hang                never answers
  non-json            prints a line that is not JSON
  wrong-id            answers with an id nobody asked
  wrong-shape         answers with neither a result nor an error
  null                prints `null` (what a seed-style handler that returns None prints)
  reply JSON          answers with JSON as the result
  deep N              answers with one task packet whose `repo` is N lists deep (written as text:
                      Python's json module gives up near 1,000 levels)
  error               answers with a JSON-RPC error object
  seed-worker [how]   the seed's worker methods only; an unknown method gets a JSON-RPC -32601 error,
                      or with `string` the string "Unknown method: NAME"
  crash-on-start      dies before reading anything
  grandchild          starts `sleep 300` (in the service's process group), answers ping with its pid
  stubborn            like grandchild, and ignores SIGTERM and the end of its input
"""
import json
import signal
import subprocess
import sys

MODE = sys.argv[1] if len(sys.argv) > 1 else "echo"
ARG = sys.argv[2] if len(sys.argv) > 2 else None


def send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def log(text):
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


if MODE == "crash-on-start":
    log("Traceback (most recent call last):")
    log("RuntimeError: cannot load configuration")
    sys.exit(1)

child = None
if MODE in ("grandchild", "stubborn"):
    child = subprocess.Popen(["sleep", "300"])
if MODE == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

workers = {}
held = []

for line in sys.stdin:
    request = json.loads(line)
    rid, method, params = request["id"], request["method"], request.get("params")
    if method == "ping":
        send({"id": rid, "result": {"pong": True, "child_pid": child.pid if child else None}})
        continue
    if MODE == "echo":
        log("echo: %s %s" % (method, json.dumps(params)))
        reply = {"id": rid, "result": {"method": method, "params": params}}
        if ARG == "jsonrpc":
            reply["jsonrpc"] = "2.0"
        send(reply)
    elif MODE == "reverse":
        held.append({"id": rid, "result": {"method": method, "params": params}})
        if len(held) >= int(ARG or "3"):
            for reply in reversed(held):
                send(reply)
            held = []
    elif MODE == "exit-mid-call":
        log("fatal: lost my mind during %s" % method)
        sys.exit(3)
    elif MODE == "hang":
        log("thinking about %s forever" % method)
    elif MODE == "non-json":
        sys.stdout.write("Loading model weights...\n")
        sys.stdout.flush()
    elif MODE == "wrong-id":
        send({"id": rid + "_elsewhere", "result": {}})
    elif MODE == "wrong-shape":
        send({"id": rid, "answer": 42})
    elif MODE == "null":
        sys.stdout.write("null\n")
        sys.stdout.flush()
    elif MODE == "reply":
        send({"id": rid, "result": json.loads(ARG)})
    elif MODE == "deep":
        depth = int(ARG or "5000")
        sys.stdout.write('{"id": %s, "result": [{"objective": "deep", "repo": %s%s}]}\n' % (json.dumps(rid), "[" * depth, "]" * depth))
        sys.stdout.flush()
    elif MODE == "error":
        send({"id": rid, "error": {"code": -32000, "message": "out of ideas for %s" % method}})
    elif MODE == "seed-worker":
        if method == "spawn_worker":
            worker_id = "worker_%d" % (len(workers) + 1)
            workers[worker_id] = False
            send({"id": rid, "result": {"worker_id": worker_id}})
        elif method == "check_trust":
            send({"id": rid, "result": {"requires_approval": True}})
        elif method == "mark_trusted":
            workers[params["worker_id"]] = True
            send({"id": rid, "result": {"trusted": True}})
        elif ARG == "string":
            send({"id": rid, "error": "Unknown method: %s" % method})
        else:
            send({"id": rid, "error": {"code": -32601, "message": "Method not found"}})
    else:
        log("unknown mode %s" % MODE)
        sys.exit(2)

if MODE == "stubborn":
    # Deaf to EOF as well as to SIGTERM: only SIGKILL ends it.
    import time

    time.sleep(300)
