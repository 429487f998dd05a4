"""Drives the official openai client through the proxy and prints what it raised, as one JSON line.

Usage: openai_refusal.py BASE_URL SCENARIO   (run by SdkRefusalsIT with .tools/venv/bin/python)
  chat      client.chat.completions.create(...): a call the policy denies
  discount  a PATCH of a deal's discount above the limit: held, then denied by an approver
  override  a call carrying X-HTTP-Method-Override: refused as bad input before the policy
  timeout   client.models.retrieve(...) of an upstream that does not answer: 504 from the proxy
"""
import json
import sys

import openai


def main():
    base_url, scenario = sys.argv[1], sys.argv[2]
    client = openai.OpenAI(api_key="sk-agent-has-no-real-key", base_url=base_url,
                           max_retries=0, timeout=60)
    chat = dict(model="gpt-test", messages=[{"role": "user", "content": "hello"}])
    try:
        if scenario == "chat":
            client.chat.completions.create(**chat)
        elif scenario == "discount":
            client.patch("/deals/42", body={"discount_pct": 40}, cast_to=object)
        elif scenario == "override":
            client.chat.completions.create(**chat, extra_headers={"X-HTTP-Method-Override": "DELETE"})
        elif scenario == "timeout":
            client.models.retrieve("slow")
        else:
            raise SystemExit("unknown scenario " + scenario)
    except openai.APIStatusError as e:
        print(json.dumps({"exception": type(e).__name__, "message": str(e), "status": e.status_code,
                          "code": e.code, "type": e.type, "body": e.body}))
        return
    print(json.dumps({"exception": None}))


if __name__ == "__main__":
    main()
