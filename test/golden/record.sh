#!/usr/bin/env bash
# Records the golden logs of the current machine versions: real runs of real plans with the built
# CLI, exported. Run once per new version into test/golden/<version>/ (never over an older folder):
#   npm run build && test/golden/record.sh test/golden/v2 postgres://postgres@127.0.0.1:5432/postgres
set -euo pipefail
out=$(realpath -m "$1"); server=${2:?a Postgres server URL}
repo=$(cd "$(dirname "$0")/../.." && pwd)
[ -e "$out" ] && { echo "$out exists: golden logs of a released version are never re-recorded" >&2; exit 2; }
mkdir -p "$out"
db_name="overseer_golden_$$"
psql "$server" -qc "create database $db_name"
trap 'psql "$server" -qc "drop database if exists $db_name"' EXIT
db="${server%/*}/$db_name"
work=$(mktemp -d); cd "$work"
cp -r "$repo/examples" .
overseer() { node "$repo/bin/overseer.js" "$@" --db "$db"; }
run_id() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).runId))'; }
export_to() { overseer export "$1" > "$out/$2.jsonl"; }

cat > retry.yaml <<'PLAN'
objective: fail once, then succeed
packets:
  - id: flaky
    objective: fails on its first attempt
    command: 'if [ "$OVERSEER_ATTEMPT" = 1 ]; then exit 1; fi; echo ok'
    recovery: { exit_nonzero: { max_attempts: 3, backoff: { initial: 100ms }, escalate: fail_run } }
PLAN
cat > gated.yaml <<'PLAN'
objective: one task held at its trust gate
packets:
  - id: gated
    objective: waits for a person
    command: echo approved
PLAN

export_to "$(overseer run --plan examples/diamond.json --auto-approve --json | run_id)" completed-dag
export_to "$(overseer run --plan retry.yaml --auto-approve --json | run_id)" retry
# Left open for tests to approve and resume: it runs from /tmp, which exists wherever they run.
waiting=$(cd /tmp && overseer run --plan "$work/gated.yaml" --detach --json | run_id || true)
export_to "$waiting" waiting-at-trust-gate
denied=$(overseer run --plan gated.yaml --detach --json | run_id || true)
overseer approve "$denied" gated --deny --reason "not today" > /dev/null
export_to "$denied" denied
cancelled=$(overseer run --plan gated.yaml --detach --json | run_id || true)
overseer cancel "$cancelled" --reason "changed my mind" > /dev/null
export_to "$cancelled" cancelled
export_to "$(overseer run "add dark mode to the dashboard" --planner 'python3 examples/services/planner.py' \
  --bootstrap 'python3 examples/services/bootstrap.py' --worker-service 'node examples/services/worker.js' --auto-approve --json | run_id)" seed-services
# Since worker@2: agent lanes (docs/agents.md), a scripted fake agent in a repository of their own.
fake="$repo/test/support/fake-agent.mjs"
git init -q -b main lanes
(cd lanes && echo hello > README.md && git add README.md && git -c user.name=golden -c user.email=golden@localhost commit -qm start)
cat > lanes/lanes.yaml <<PLAN
objective: two agent lanes, the second on the first's merged work
packets:
  - { id: api, objective: add the api, gates: ["test -f api.txt"], agent: { command: "node $fake claude-stream-json {prompt_file} --steps 2 --write api.txt=api", output: claude-stream-json } }
  - { id: docs, objective: document the api, dependsOn: [api], merge: squash, agent: { command: "node $fake codex-json {prompt_file} --write docs.txt=docs", output: codex-json } }
PLAN
export_to "$(cd lanes && overseer run --plan lanes.yaml --auto-approve --json | run_id)" agent-lanes
cd / && rm -rf "$work"
wc -l "$out"/*.jsonl
