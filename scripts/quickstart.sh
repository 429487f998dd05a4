#!/usr/bin/env bash
# Quick start: installs what is missing, builds, starts the example business API and the proxy
# with the example policy, the embedded (managed) OPA and a local ledger in run/ledger.
# Ctrl-C stops both.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/install-tools.sh opa
echo "building (mvn package) ..." >&2
mvn -B -q package -DskipTests
mkdir -p run
python3 examples/business_api.py --port 9000 > run/business-api.log 2>&1 &
api=$!
trap 'kill $api 2>/dev/null || true' EXIT
export CRM_TOKEN=demo-crm-token BILLING_TOKEN=demo-billing-token
cat <<'TRY'

Countersign is starting: agent port 127.0.0.1:8080, admin port 127.0.0.1:9090 (example API on
127.0.0.1:9000). In another shell, try:

  # allowed (read_only): the proxy injects the CRM credential the agent never sees
  curl -s localhost:8080/crm/v3/deals/42 -H 'X-Countersign-Workflow: quote-prep'
  # allowed (low risk): a 10% discount is within the limit
  curl -s -X PATCH localhost:8080/crm/v3/deals/42 -H 'Content-Type: application/json' -d '{"discount_pct": 10}'
  # denied: agents may not delete deals
  curl -s -X DELETE localhost:8080/crm/v3/deals/42
  # rejected before policy: a path trick
  curl -s --path-as-is 'localhost:8080/crm/v3/deals/%2e%2e/secrets'

  # held (high risk): 30% needs a sales-manager; async, so the agent gets a ticket at once
  curl -s -X PATCH localhost:8080/crm/v3/deals/42 -H 'Prefer: respond-async' \
       -H 'Content-Type: application/json' -d '{"discount_pct": 30}'
  # the approver lists holds, reviews one, and approves it with the digest they reviewed
  curl -s localhost:9090/v1/approvals -H 'Authorization: Bearer demo-maria-token'
  curl -s localhost:9090/v1/approvals/ID -H 'Authorization: Bearer demo-maria-token'
  curl -s -X POST localhost:9090/v1/approvals/ID/approve -H 'Authorization: Bearer demo-maria-token' \
       -d '{"reason": "strategic account", "digest": "sha256:..."}'
  # the agent fetches the outcome: the upstream's answer, once executed
  curl -s localhost:8080/.countersign/tickets/ID

  # the ledger, as JSON lines
  bin/countersign ledger tail --dir run/ledger

TRY
bin/countersign run --config examples/countersign.yaml
