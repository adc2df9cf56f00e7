#!/usr/bin/env python3
"""A worker service for the engine's tests: the seed's worker methods plus run_worker, every request
recorded with the pid of the process that received it, and two ways to be awkward on purpose.

    python3 recording_worker.py CALLS [--exit-once MARKER] [--hold RELEASE]

  CALLS               each request is appended here as {"pid", "method", "params"}, one line each
  --exit-once MARKER  the first run_worker any process gets (MARKER does not exist yet; it is created)
                      makes that process exit without answering; later ones are answered
  --hold RELEASE      run_worker is answered only once the file RELEASE exists

Worker ids are worker_1, worker_2, ... per process, as a seed service numbers them, so an id from
another process is unknown here ("no worker"); a packet id asked for again gets the same worker.
check_trust always asks for approval. The service exits when its input ends, even with runs held.
"""
import json
import os
import sys
import threading
import time

CALLS = sys.argv[1]
OPTIONS = dict(zip(sys.argv[2::2], sys.argv[3::2]))
EXIT_ONCE = OPTIONS.get("--exit-once")
HOLD = OPTIONS.get("--hold")

stdout_lock = threading.Lock()
trusted = {}
by_packet = {}


def send(message):
    with stdout_lock:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()


def log(text):
    sys.stderr.write("[recording worker %d] %s\n" % (os.getpid(), text))
    sys.stderr.flush()


def record(method, params):
    with open(CALLS, "a") as calls:
        calls.write(json.dumps({"pid": os.getpid(), "method": method, "params": params}) + "\n")


def run(rid, worker_id):
    while HOLD is not None and not os.path.exists(HOLD):
        time.sleep(0.05)
    send({"id": rid, "result": {"status": "done", "output": "%s ran" % worker_id}})


for line in sys.stdin:
    if line.strip() == "":
        continue
    request = json.loads(line)
    rid, method, params = request["id"], request["method"], request.get("params") or {}
    record(method, params)
    if method == "spawn_worker":
        packet_id = params["task_packet"]["id"]
        worker_id = by_packet.get(packet_id)
        if worker_id is None:
            worker_id = "worker_%d" % (len(trusted) + 1)
            trusted[worker_id] = False
            by_packet[packet_id] = worker_id
        log("%s for %s" % (worker_id, packet_id))
        send({"id": rid, "result": {"worker_id": worker_id}})
        continue
    if method not in ("check_trust", "mark_trusted", "run_worker"):
        send({"id": rid, "error": {"code": -32601, "message": "Method not found: %s" % method}})
        continue
    worker_id = params.get("worker_id")
    if worker_id not in trusted:
        send({"id": rid, "error": {"code": -32602, "message": "no worker %s" % json.dumps(worker_id)}})
    elif method == "check_trust":
        send({"id": rid, "result": {"requires_approval": True}})
    elif method == "mark_trusted":
        trusted[worker_id] = True
        send({"id": rid, "result": {"worker_id": worker_id, "trusted": True}})
    elif not trusted[worker_id]:
        send({"id": rid, "error": {"code": -32001, "message": "%s is not trusted yet" % worker_id}})
    elif EXIT_ONCE is not None and not os.path.exists(EXIT_ONCE):
        open(EXIT_ONCE, "w").close()
        log("exiting in the middle of run_worker %s" % worker_id)
        os._exit(3)
    else:
        # Runs overlap: each waits on its own, so held runs do not stop the service from reading.
        threading.Thread(target=run, args=(rid, worker_id), daemon=True).start()
