#!/usr/bin/env python3
"""A planning service for Overseer, written to the seed's protocol.

One JSON object per line on stdin, one reply per line on stdout, logs on stderr:

    {"id": "req_1", "method": "decompose", "params": {"objective": "...", "context": {}}}
    {"id": "req_1", "result": [{"id": "survey", "objective": "...", ...}, ...]}

`decompose` splits an objective into three task packets (survey, implement, verify), each with an id,
its dependencies, and Claw Code's task-packet fields (scope, acceptance tests, policies), which
Overseer keeps and passes on to the worker untouched.

    npx overseer run "add dark mode to the dashboard" --planner 'python3 examples/services/planner.py' ...
"""
import json
import sys


def decompose(objective, context):
    repo = context.get("repo", ".")
    return [
        {
            "id": "survey",
            "objective": "Survey the code and write down a plan to %s" % objective,
            "scope": "workspace",
            "repo": repo,
            "acceptance_criteria": ["the files to change are listed", "open questions are written down"],
            "reporting_contract": {"report": "plan.md"},
        },
        {
            "id": "implement",
            "objective": "Implement: %s" % objective,
            "dependsOn": ["survey"],
            "scope": "module",
            "scope_path": "src",
            "repo": repo,
            "branch_policy": "feature_branch",
            "commit_policy": "one_commit_per_packet",
            "acceptance_tests": ["npm test -- --run"],
            "escalation_policy": "ask_human",
        },
        {
            "id": "verify",
            "objective": "Verify end to end: %s" % objective,
            "dependsOn": ["implement"],
            "scope": "workspace",
            "repo": repo,
            "acceptance_tests": ["npm test", "npm run lint"],
            "verification_plan": ["run the test suite", "check the change by hand in a browser"],
        },
    ]


def handle(request):
    method = request.get("method")
    params = request.get("params") or {}
    if method == "decompose":
        objective = params.get("objective")
        if not isinstance(objective, str) or not objective.strip():
            return {"error": {"code": -32602, "message": "decompose needs a non-empty objective"}}
        return {"result": decompose(objective.strip(), params.get("context") or {})}
    return {"error": {"code": -32601, "message": "Method not found: %s" % method}}


def main():
    print("[planner] ready", file=sys.stderr, flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        reply = dict({"id": request.get("id")}, **handle(request))
        print("[planner] %s -> %s" % (request.get("method"), "error" if "error" in reply else "ok"), file=sys.stderr, flush=True)
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
