#!/usr/bin/env python3
"""The seed's bootstrap service, as a file: `execute_phase {phase, context}` → `{phase, success,
artifacts | error}` for the phases `system_prompt_fastpath` and `mcp_fastpath`.

The seed embeds this in its orchestrator as a fallback for a Rust bootstrap; it is the same service,
except that an unknown method gets a JSON-RPC "method not found" error where the seed printed `null`.

    python3 examples/services/bootstrap.py
"""
import json
import sys

PHASES = {
    "system_prompt_fastpath": {"system_prompt": "You are a helpful assistant..."},
    "mcp_fastpath": {"mcp_servers": ["stdio"]},
}


def execute_phase(phase):
    if phase in PHASES:
        return {"phase": phase, "success": True, "artifacts": PHASES[phase]}
    return {"phase": phase, "success": False, "error": "unknown"}


def handle(request):
    if request.get("method") == "execute_phase":
        return {"id": request["id"], "result": execute_phase((request.get("params") or {}).get("phase"))}
    return {"id": request.get("id"), "error": {"code": -32601, "message": "Method not found: %s" % request.get("method")}}


for line in sys.stdin:
    if not line.strip():
        continue
    request = json.loads(line)
    print("[bootstrap] %s %s" % (request.get("method"), json.dumps(request.get("params"))), file=sys.stderr, flush=True)
    print(json.dumps(handle(request)), flush=True)
