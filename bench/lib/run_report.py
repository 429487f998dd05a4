"""The report of bench/run.sh: reads what the run left in its temp dir, prints the tables and the
issue's targets, writes all numbers as JSON. Exits 1 when any run had errors or non-2xx responses.

    python3 bench/lib/run_report.py TMP_DIR JSON_OUT

TMP_DIR holds: maxrps.tsv (round, scenario, method, the 15 fields of bench/wrk/bench.lua, then
Countersign's decision-cache hits and misses during the run, or "-"), latency/*.json (bench/loadgen
output, label "scenario@rate"), procs.tsv (round, scenario, RSS of each process as
name[pid]=KiB), failures.txt, noisy.txt, notable.txt and meta.tsv (key, value).
"""

import glob
import json
import os
import statistics
import sys

WRK_FIELDS = ["requests", "duration_us", "rps", "p50_us", "p90_us", "p99_us", "max_us", "mean_us",
              "err_connect", "err_read", "err_write", "err_timeout", "err_status", "statuses", "first_non_2xx"]
COUNTERSIGN = ["countersign-wasm", "countersign-opa"]


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def load(tmp):
    meta = dict(line.split("\t", 1) for line in read_lines(os.path.join(tmp, "meta.tsv")))
    runs = []
    for line in read_lines(os.path.join(tmp, "maxrps.tsv")):
        cols = line.split("\t")
        run = {"round": int(cols[0]), "scenario": cols[1], "method": cols[2]}
        for name, value in zip(WRK_FIELDS, cols[3:]):
            run[name] = value if name in ("statuses", "first_non_2xx") else float(value)
        hits, misses = (cols[18:20] + ["-", "-"])[:2]
        run["cache_hits"] = None if hits == "-" else int(hits)
        run["cache_misses"] = None if misses == "-" else int(misses)
        runs.append(run)
    latency = {}
    for path in sorted(glob.glob(os.path.join(tmp, "latency", "*.json"))):
        with open(path) as f:
            d = json.load(f)
        scenario, label = d["label"].split("@", 1)
        latency[(scenario, label)] = d
    procs = []
    for line in read_lines(os.path.join(tmp, "procs.tsv")):
        cols = (line.split("\t") + ["", "", ""])[:3]
        rss = {}
        for item in cols[2].split():
            name, kib = item.rsplit("=", 1)
            rss[name] = int(kib)
        procs.append({"round": int(cols[0]), "scenario": cols[1], "rss_kib": rss,
                      "rss_kib_total": sum(rss.values())})
    return meta, runs, latency, procs


def order_of(meta):
    return meta.get("scenarios", "").split()


def summarize_max(runs, order):
    rows = []
    keys = []
    for method in ("GET", "PATCH"):
        keys += [(s, method) for s in order if any(r["scenario"] == s and r["method"] == method for r in runs)]
    for scenario, method in keys:
        mine = sorted((r for r in runs if r["scenario"] == scenario and r["method"] == method), key=lambda r: r["round"])
        rps = [r["rps"] for r in mine]
        hits = sum(r["cache_hits"] or 0 for r in mine)
        lookups = hits + sum(r["cache_misses"] or 0 for r in mine)
        rows.append({"scenario": scenario, "method": method, "rps_median": statistics.median(rps),
                     "rps_rounds": rps, "p99_ms_rounds": [r["p99_us"] / 1000 for r in mine],
                     "decision_cache_hit_ratio": hits / lookups if lookups else None,
                     "errors": sum(r["err_connect"] + r["err_read"] + r["err_write"] + r["err_timeout"] + r["err_status"] for r in mine)})
    by = {(r["scenario"], r["method"]): r for r in rows}
    for row in rows:
        nginx = by.get(("nginx", row["method"]))
        peer = by.get(("nginx+opa", row["method"]))
        row["x_nginx"] = row["rps_median"] / nginx["rps_median"] if nginx else None
        row["x_nginx_opa"] = row["rps_median"] / peer["rps_median"] if peer else None
    return rows, by


def summarize_latency(latency, order, rates):
    rows = []
    labels = rates.split()
    for scenario in order:
        for label in labels:
            d = latency.get((scenario, label))
            if d is None:
                continue
            base = latency.get(("direct", label)) if not label.endswith("%") else None
            lat = d["latency_us"]
            row = {"scenario": scenario, "rate_label": label, "target_rate": d["target_rate"],
                   "achieved_rate": d["achieved_rate"], "count": d["count"],
                   "p50_ms": lat["p50"] / 1000, "p99_ms": lat["p99"] / 1000, "p99_9_ms": lat["p99_9"] / 1000,
                   "max_ms": lat["max"] / 1000, "errors": d["errors_total"], "non_2xx": d["non_2xx"],
                   "behind": d["schedule"]["behind"], "generator_behind": d["schedule"]["generator_behind"],
                   "behind_reason": d["schedule"].get("reason", ""), "generator_cpu_pct": d["generator_cpu_pct"]}
            if base is not None and scenario != "direct":
                blat = base["latency_us"]
                row["added_p50_ms"] = (lat["p50"] - blat["p50"]) / 1000
                row["added_p99_ms"] = (lat["p99"] - blat["p99"]) / 1000
                row["added_p99_9_ms"] = (lat["p99_9"] - blat["p99_9"]) / 1000
            rows.append(row)
    return rows


def fmt(v, spec, none="-"):
    return none if v is None else format(v, spec)


def targets(by_max, latency_rows):
    """The issue's targets, for each Countersign engine that ran: informative, never the exit code."""
    lat = {(r["scenario"], r["rate_label"]): r for r in latency_rows}
    pct_label = next((r["rate_label"] for r in latency_rows if r["rate_label"].endswith("%")), "80%")
    out = []

    def line(what, ok, detail, caveat=""):
        state = "n/a" if ok is None else ("met" if ok else "NOT met")
        out.append({"target": what, "state": state, "detail": detail + (f" ({caveat})" if caveat else "")})

    for cs in COUNTERSIGN:
        mine = by_max.get((cs, "GET"))
        if mine is None:
            continue
        nginx = by_max.get(("nginx", "GET"))
        peer = by_max.get(("nginx+opa", "GET"))
        line(f"{cs} max throughput >= 0.9x nginx",
             None if not nginx else mine["rps_median"] >= 0.9 * nginx["rps_median"],
             "needs nginx" if not nginx else f"{mine['rps_median'] / nginx['rps_median']:.2f}x")
        line(f"{cs} max throughput >= 3x nginx+opa",
             None if not peer else mine["rps_median"] >= 3 * peer["rps_median"],
             "needs nginx+opa" if not peer else f"{mine['rps_median'] / peer['rps_median']:.2f}x")
        # A latency measured while the generator could not keep its own schedule includes the
        # generator's lateness: no verdict then, only the numbers.
        at2k, direct2k = lat.get((cs, "2000")), lat.get(("direct", "2000"))
        what = f"{cs} added p99 <= 0.3 ms at 2k rps"
        if at2k is None or "added_p99_ms" not in at2k:
            line(what, None, "needs direct and this scenario at 2000 req/s")
        else:
            late = [r["scenario"] for r in (at2k, direct2k) if r["generator_behind"]]
            line(what, None if late else at2k["added_p99_ms"] <= 0.3, f"{at2k['added_p99_ms']:+.3f} ms",
                 "load generator behind schedule: " + ", ".join(late) if late else "")
        mine80, nginx80 = lat.get((cs, pct_label)), lat.get(("nginx", pct_label))
        what = f"{cs} p99 at {pct_label} of max <= 2x nginx's"
        if mine80 is None or nginx80 is None:
            line(what, None, f"needs nginx and this scenario at {pct_label}")
        else:
            late = [r["scenario"] for r in (mine80, nginx80) if r["generator_behind"]]
            line(what, None if late else mine80["p99_ms"] <= 2 * nginx80["p99_ms"],
                 f"{mine80['p99_ms']:.3f} ms vs nginx {nginx80['p99_ms']:.3f} ms",
                 "load generator behind schedule: " + ", ".join(late) if late else "")
    return out


def main():
    tmp, json_out = sys.argv[1], sys.argv[2]
    meta, runs, latency, procs = load(tmp)
    order = order_of(meta)
    max_rows, by_max = summarize_max(runs, order)
    lat_rows = summarize_latency(latency, order, meta.get("rates", ""))
    goals = targets(by_max, lat_rows)

    failures = read_lines(os.path.join(tmp, "failures.txt"))
    for r in lat_rows:
        if r["errors"] or r["non_2xx"]:
            d = latency[(r["scenario"], r["rate_label"])]
            failures.append(f"{r['scenario']} at {r['rate_label']}: errors {d['errors']} non-2xx {d['non_2xx']} "
                            f"statuses {d['statuses']} first non-2xx {d.get('first_non_2xx', '')[:200]}")
    noisy = read_lines(os.path.join(tmp, "noisy.txt"))
    notable = read_lines(os.path.join(tmp, "notable.txt"))

    p = print
    p(f"\nMax throughput: wrk -t{meta['threads']} -c{meta['connections']}, {meta['duration']} measured after "
      f"{meta['warmup']} warm-up (Countersign: {meta.get('jvm_warmup', meta['warmup'])}; PATCH: "
      f"{meta['patch_warmup']}), {meta['rounds']} interleaved round(s), median")
    p(f"{'scenario':<18} {'method':<6} {'req/s':>9}  {'rounds':<26} {'x nginx':>8} {'x nginx+opa':>12} "
      f"{'errors':>7} {'cache hits':>10}")
    for r in max_rows:
        rounds = " ".join(f"{v:.0f}" for v in r["rps_rounds"])
        ratio = r["decision_cache_hit_ratio"]
        hit = "-" if ratio is None else f"{100 * ratio:.1f}%"
        p(f"{r['scenario']:<18} {r['method']:<6} {r['rps_median']:>9.0f}  {rounds:<26} "
          f"{fmt(r['x_nginx'], '8.2f'):>8} {fmt(r['x_nginx_opa'], '12.2f'):>12} {r['errors']:>7.0f} {hit:>10}")

    cached = [r for r in max_rows if r["method"] == "GET" and (r["decision_cache_hit_ratio"] or 0) > 0.5]
    if cached:
        p("note: " + ", ".join(f"{r['scenario']} answered {100 * r['decision_cache_hit_ratio']:.0f} %" for r in cached)
          + " of its GET decisions from its decision cache (read-only allows are cacheable); nginx+opa asks OPA"
          " every time. PATCH is evaluated every time by all. DECISION_CACHE=off compares GETs like for like.")

    p(f"\nLatency at fixed rates (GET; bench/loadgen, {meta['connections']} connections, open loop: from the "
      f"intended send time; {meta['latency_duration']} after {meta['latency_warmup']} warm-up); "
      "+ = added over direct at the same rate")
    p(f"{'scenario':<18} {'rate':>12} {'achieved':>9} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} "
      f"{'+p50':>7} {'+p99':>7} {'+p99.9':>7}  note")
    for r in lat_rows:
        rate = r["rate_label"] if not r["rate_label"].endswith("%") else f"{r['rate_label']}={r['target_rate']:.0f}"
        note = ""
        if r["errors"] or r["non_2xx"]:
            note = f"ERRORS {r['errors']} non-2xx {r['non_2xx']} "
        if r["behind"]:
            note += ("GENERATOR BEHIND: " if r["generator_behind"] else "target behind: ") + r["behind_reason"]
        p(f"{r['scenario']:<18} {rate:>12} {r['achieved_rate']:>9.0f} {r['p50_ms']:>8.3f} {r['p99_ms']:>8.3f} "
          f"{r['p99_9_ms']:>9.3f} {fmt(r.get('added_p50_ms'), '+7.3f'):>7} {fmt(r.get('added_p99_ms'), '+7.3f'):>7} "
          f"{fmt(r.get('added_p99_9_ms'), '+7.3f'):>7}  {note}")

    p("\nTargets (informative; only ratios within this run count):")
    for g in goals:
        p(f"  [{g['state']:>7}] {g['target']}: {g['detail']}")

    p("\nProcesses under test (resident memory when each stopped, largest over the rounds):")
    for scenario in order:
        mine = [x for x in procs if x["scenario"] == scenario and x["rss_kib"]]
        if not mine:
            continue
        top = max(mine, key=lambda x: x["rss_kib_total"])
        parts = ", ".join(f"{k.split('[')[0]} {v / 1024:.0f}" for k, v in top["rss_kib"].items())
        p(f"  {scenario:<18} {top['rss_kib_total'] / 1024:7.0f} MiB  ({parts} MiB)")
    if notable:
        p("Countersign log warnings/errors (count, deduplicated):")
        for line in notable[:20]:
            p("  " + line[:300])
    if noisy:
        p(f"WARNING: other processes were busy during {len(noisy)} measured run(s); the numbers are skewed:")
        for line in noisy:
            p("  " + line)
    behind = [r for r in lat_rows if r["generator_behind"]]
    if behind:
        p("WARNING: the load generator fell behind its own schedule in: "
          + ", ".join(f"{r['scenario']}@{r['rate_label']}" for r in behind)
          + " (too little CPU left for it; those latencies include its lateness)")
    for f in failures:
        p("FAIL: " + f)

    report = {
        "benchmark": "run", "meta": meta, "max_throughput": max_rows, "max_throughput_runs": runs,
        "latency": lat_rows, "latency_raw": {f"{s}@{l}": d for (s, l), d in latency.items()},
        "targets": goals, "processes": procs, "other_busy_processes": noisy,
        "proxy_log_notable": notable, "failures": failures,
    }
    with open(json_out, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
