#!/usr/bin/env bash
# The demo scenario with the command line: a 1,000-for-1,000 prisoner exchange.
# Usage: examples/demo.sh [WORKDIR]   (needs `swapproto` on PATH; CI runs it)
set -euo pipefail

work="${1:-$(mktemp -d)}"
mkdir -p "$work"
cd "$work"

python3 - <<'PY'
import datetime as dt
from swapproto.demo_data import demo_terms
from swapproto.demo_data import write_prisoner_csv

today = dt.datetime.now(dt.UTC).date()
for side in ("ua", "ru"):
    with open(f"{side}.csv", "w", encoding="utf-8", newline="") as f:
        write_prisoner_csv(f, 1000, side=side, reference=today)
with open("terms.toml", "w", encoding="utf-8") as f:
    f.write(demo_terms(today, 1000))
PY

swapproto keygen ua -o keys/ ; swapproto keygen ru -o keys/ ; swapproto keygen tr -o keys/
swapproto terms new terms.toml -o xch/
swapproto terms sign xch/ --key keys/ua.key ; swapproto terms sign xch/ --key keys/ru.key
swapproto manifest build --exchange xch/ --list pows --from ua.csv --key keys/ua.key -o ua.manifest
swapproto manifest build --exchange xch/ --list pows --from ru.csv --key keys/ru.key -o ru.manifest
swapproto commit xch/ ua.manifest --key keys/ua.key
# Revealing before the counterparty has committed is refused (exit code 2):
if swapproto reveal xch/ ua.manifest --key keys/ua.key; then
  echo "reveal before both commits was accepted" >&2; exit 1
fi
swapproto commit xch/ ru.manifest --key keys/ru.key
swapproto reveal xch/ ua.manifest --key keys/ua.key
swapproto reveal xch/ ru.manifest --key keys/ru.key
swapproto verify xch/ --key keys/tr.key
swapproto accept xch/ --key keys/ua.key
swapproto accept xch/ --key keys/ru.key
swapproto disclose ua.manifest --entry 17 -o p17.proof
swapproto check p17.proof --exchange xch/
fp=$(swapproto verify xch/ --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["exchange_fingerprint"])')
swapproto verify xch/ --expect "$fp" --json > report.json
python3 -c 'import json; r = json.load(open("report.json")); assert r["ok"] and r["state"] == "agreed", r["state"]'
echo "demo.sh: exchange agreed and verified in $work"
