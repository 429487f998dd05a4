"""Drives the official stripe client through the proxy and prints what it raised, as one JSON line.

Usage: stripe_refusal.py BASE_URL SCENARIO   (run by SdkRefusalsIT with .tools/venv/bin/python)
  delete   client.v1.customers.delete(...): a call the policy denies
  refund   client.v1.refunds.create(...): a large refund, held, then denied by an approver
  timeout  client.v1.customers.retrieve(...) of an upstream that does not answer: 504 from the proxy
"""
import json
import sys

import stripe


def main():
    base_url, scenario = sys.argv[1], sys.argv[2]
    client = stripe.StripeClient("sk_test_agent_has_no_real_key", base_addresses={"api": base_url},
                                 max_network_retries=0)
    try:
        if scenario == "delete":
            client.v1.customers.delete("cus_1")
        elif scenario == "refund":
            client.v1.refunds.create(params={"charge": "ch_1", "amount": 5000})
        elif scenario == "timeout":
            client.v1.customers.retrieve("slow")
        else:
            raise SystemExit("unknown scenario " + scenario)
    except stripe.StripeError as e:
        print(json.dumps({"exception": type(e).__name__, "message": str(e),
                          "is_stripe_error": isinstance(e, stripe.StripeError),
                          "status": e.http_status, "code": e.code,
                          "error": e.error.to_dict() if e.error is not None else None}))
        return
    print(json.dumps({"exception": None}))


if __name__ == "__main__":
    main()
