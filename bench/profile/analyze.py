#!/usr/bin/env python3
"""Summarises a JFR recording of the Countersign proxy (bench/profile/profile.sh).

  bench/profile/analyze.py FILE.jfr [--top 25] [--threads countersign-io]

Prints: sample counts by thread; top self methods; top inclusive methods; self and inclusive shares
by library (our packages, Jackson, Netty, Chronicle, wasm, logback, micrometer, SHA-256, ...); the
innermost io.countersign frame of each sample (which of our methods the time is spent under) and
the library that burns it; top call paths; allocation (jdk.ObjectAllocationSample weight) by class,
by top frame and by our frame; lock contention (jdk.JavaMonitorEnter, jdk.ThreadPark); GC.
"""
import argparse, collections, json, os, subprocess, sys

JFR = os.path.join(os.path.dirname(os.path.realpath(subprocess.check_output(
    ["bash", "-c", "readlink -f $(command -v java)"], text=True).strip())), "jfr")

CATS = [  # (prefix, category); first match wins, on the frame's class name
    ("io.countersign.proxy.metrics", "countersign.metrics"),
    ("io.countersign.ledger", "countersign.ledger"),
    ("io.countersign.policy", "countersign.policy"),
    ("io.countersign.proxy", "countersign.proxy"),
    ("com.fasterxml.jackson", "jackson"),
    ("io.netty", "netty"),
    ("net.openhft", "chronicle"),
    ("com.styra", "opa-wasm(styra)"),
    ("com.dylibso.chicory", "wasm(chicory)"),
    ("ch.qos.logback", "logback"), ("org.slf4j", "logback"),
    ("io.micrometer", "micrometer"), ("io.prometheus", "micrometer"),
    ("com.github.benmanes.caffeine", "caffeine"),
    ("sun.security.provider.SHA", "sha-256"), ("sun.security.provider.DigestBase", "sha-256"),
    ("java.security.MessageDigest", "sha-256"), ("sun.security.provider.ByteArrayAccess", "sha-256"),
    ("javax.crypto", "hmac/crypto"), ("com.sun.crypto", "hmac/crypto"),
    ("java.util.UUID", "uuid"), ("java.security.SecureRandom", "securerandom"),
    ("sun.security.provider.NativePRNG", "securerandom"),
    ("java.util.HexFormat", "hex"),
    ("java.net.http", "jdk.httpclient"), ("jdk.internal.net.http", "jdk.httpclient"),
    ("java.time", "java.time"),
    ("java.util.concurrent", "j.u.concurrent"),
    ("java.lang.String", "java.lang.String*"), ("java.lang.AbstractStringBuilder", "java.lang.String*"),
    ("java.lang.StringLatin1", "java.lang.String*"), ("java.lang.StringUTF16", "java.lang.String*"),
    ("java.lang.StringConcatHelper", "java.lang.String*"), ("java.lang.invoke", "java.lang.String*"),
    ("java.util", "java.util"), ("java.", "java.other"), ("jdk.", "jdk.other"), ("sun.", "sun.other"),
]


def cat(cls):
    for p, c in CATS:
        if cls.startswith(p):
            return c
    return "other"


import re
LAMBDA = re.compile(r"\$\$Lambda\$[0-9]+\+0x[0-9a-f]+/[0-9]+")


def frames(ev):
    st = ev.get("values", {}).get("stackTrace") or ev.get("stackTrace")
    if not st:
        return []
    out = []
    for f in st.get("frames", []):
        m = f["method"]
        cls = m["type"]["name"] if isinstance(m.get("type"), dict) else str(m.get("type"))
        cls = LAMBDA.sub("$$Lambda", cls.replace("/", "."))
        out.append((cls, m["name"], f.get("lineNumber", -1)))
    return out  # top of stack first


def load(path, events, depth=256):
    txt = subprocess.check_output([JFR, "print", "--json", "--stack-depth", str(depth),
                                   "--events", ",".join(events), path], text=True)
    evs = json.loads(txt)["recording"]["events"]
    if WINDOW:
        b, e = WINDOW
        evs = [x for x in evs if b <= norm_time(x["values"].get("startTime", "")) <= e]
    return evs


WINDOW = None


def norm_time(s):
    # jfr --json gives e.g. 2026-11-25T12:40:07.997123456Z or with an offset; compare as UTC text
    if s.endswith("Z") or not s:
        return s
    from datetime import datetime, timezone
    try:
        return datetime.fromisoformat(s).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")
    except ValueError:
        return s


def pct(n, d):
    return 100.0 * n / d if d else 0.0


WASM_NAMES = {}
_n = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wasm-func-names.txt")
if os.path.exists(_n):  # `func_N` of chicory's compiled module -> OPA wasm function name
    WASM_NAMES = dict(l.split(" ", 1) for l in open(_n).read().splitlines() if " " in l)


def short(cls, meth, line=None):
    if meth.startswith("func_") and meth[5:] in WASM_NAMES:
        meth = f"{meth}[{WASM_NAMES[meth[5:]]}]"
    s = cls.rsplit(".", 1)[-1] if not cls.startswith("io.countersign") else cls.replace("io.countersign.", "")
    return f"{s}.{meth}" + (f":{line}" if line not in (None, -1) else "")


def fq(cls, meth):
    return f"{cls}.{meth}"


def val(ev, k):
    return ev["values"].get(k)


def thread_name(ev, key="sampledThread"):
    t = val(ev, key) or val(ev, "eventThread") or {}
    n = (t or {}).get("javaName") or (t or {}).get("osName") or "?"
    # collapse numbered threads
    import re
    return re.sub(r"-\d+$", "-N", n)


def table(title, rows, total, n, width=78):
    print(f"\n== {title} (total {total})")
    for k, v in rows.most_common(n):
        print(f"  {pct(v, total):6.2f}%  {v:7d}  {k[:width + 40]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("jfr")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--window", help="file with 'BEGIN END' ISO UTC instants: keep events inside")
    ap.add_argument("--threads", default="", help="only samples from threads whose name contains this")
    a = ap.parse_args()
    global WINDOW
    if a.window:
        WINDOW = tuple(open(a.window).read().split()[:2])

    ev = load(a.jfr, ["jdk.ExecutionSample"])
    ev = [e for e in ev if a.threads in thread_name(e)]
    N = len(ev)
    by_thread = collections.Counter(thread_name(e) for e in ev)
    table("execution samples by thread", by_thread, N, 15)

    self_m = collections.Counter(); self_ml = collections.Counter(); incl_m = collections.Counter()
    self_c = collections.Counter(); incl_c = collections.Counter()
    ours = collections.Counter(); ours_lib = collections.Counter(); paths = collections.Counter()
    ours_incl = collections.Counter()
    for e in ev:
        fr = frames(e)
        if not fr:
            continue
        c0, m0, l0 = fr[0]
        self_m[fq(c0, m0) + (f"[{WASM_NAMES[m0[5:]]}]" if m0.startswith("func_") and m0[5:] in WASM_NAMES else "")] += 1
        self_ml[short(c0, m0, l0)] += 1
        self_c[cat(c0)] += 1
        seen_m, seen_c, seen_o = set(), set(), set()
        for c, m, l in fr:
            seen_m.add(fq(c, m)); seen_c.add(cat(c))
            if c.startswith("io.countersign"):
                seen_o.add(short(c, m, l))
        for x in seen_m: incl_m[x] += 1
        for x in seen_c: incl_c[x] += 1
        for x in seen_o: ours_incl[x] += 1
        # innermost of our frames: which of our methods (line) the sample is under, and the library burning it
        inner = next(((c, m, l) for c, m, l in fr if c.startswith("io.countersign")), None)
        key = short(*inner) if inner else "(no io.countersign frame)"
        ours[key] += 1
        ours_lib[f"{key}  ->  {cat(c0)}"] += 1
        # call path: the top 6 frames, compact
        paths[" < ".join(short(c, m, l) for c, m, l in fr[:6])] += 1

    table("self time by library (top frame)", self_c, N, 30)
    table("inclusive time by library (anywhere on the stack)", incl_c, N, 30)
    table("top self methods", self_m, N, a.top)
    table("top self methods with line", self_ml, N, a.top)
    table("top inclusive methods", incl_m, N, a.top)
    table("io.countersign frames, inclusive (method:line on stack)", ours_incl, N, a.top)
    table("innermost io.countersign frame (time spent under it, incl. libraries it calls)", ours, N, a.top)
    table("innermost io.countersign frame -> library of the top frame", ours_lib, N, a.top)
    table("top call paths (top 6 frames)", paths, N, a.top, width=200)

    # ------------------------------------------------------------ allocation
    al = load(a.jfr, ["jdk.ObjectAllocationSample"])
    al = [e for e in al if a.threads in thread_name(e, "eventThread")]
    W = sum(val(e, "weight") or 0 for e in al)
    by_cls = collections.Counter(); by_top = collections.Counter(); by_ours = collections.Counter()
    by_lib = collections.Counter(); by_thr = collections.Counter(); by_path = collections.Counter()
    for e in al:
        w = val(e, "weight") or 0
        oc = (val(e, "objectClass") or {}).get("name", "?")
        by_cls[oc] += w
        fr = frames(e)
        by_thr[thread_name(e, "eventThread")] += w
        if fr:
            # skip allocation plumbing to the first "real" frame
            by_top[short(*fr[0])] += w
            inner = next(((c, m, l) for c, m, l in fr if c.startswith("io.countersign")), None)
            by_ours[short(*inner) if inner else "(none)"] += w
            lib = next((cat(c) for c, m, l in fr if not c.startswith(("java.", "jdk.", "sun."))), "jdk")
            by_lib[lib] += w
            by_path[f"{oc} @ " + " < ".join(short(c, m, l) for c, m, l in fr[:5])] += w
    mb = lambda x: x / 1048576
    print(f"\n== allocation (jdk.ObjectAllocationSample): {len(al)} samples, {mb(W):.0f} MiB estimated")
    for title, cnt in (("by thread", by_thr), ("by class", by_cls), ("by first non-JDK library on stack", by_lib),
                       ("by innermost io.countersign frame", by_ours), ("by top frame", by_top),
                       ("by class @ top frames", by_path)):
        print(f"\n-- allocation {title}")
        for k, v in cnt.most_common(a.top if title != "by thread" else 10):
            print(f"  {pct(v, W):6.2f}%  {mb(v):9.1f} MiB  {k[:220]}")

    # ------------------------------------------------------------ contention
    for evn, key in (("jdk.JavaMonitorEnter", "monitorClass"), ("jdk.JavaMonitorWait", "monitorClass"),
                     ("jdk.ThreadPark", "parkedClass")):
        ce = load(a.jfr, [evn], depth=12)
        print(f"\n== {evn}: {len(ce)} events over threshold")
        agg = collections.defaultdict(lambda: [0, 0.0])
        for e in ce:
            d = val(e, "duration") or "PT0S"
            secs = parse_dur(d)
            fr = frames(e)
            site = " < ".join(short(c, m, l) for c, m, l in fr[:4] if not c.startswith("jdk.internal.misc.Unsafe"))
            k = f"[{thread_name(e, 'eventThread')}] {((val(e, key) or {}) or {}).get('name', '-')} @ {site}"
            agg[k][0] += 1; agg[k][1] += secs
        for k, (n, s) in sorted(agg.items(), key=lambda kv: -kv[1][1])[:12]:
            print(f"  {n:6d} ev  {s:8.3f} s  {k[:260]}")

    # ------------------------------------------------------------ JIT
    comp = load(a.jfr, ["jdk.Compilation"], depth=1)
    if comp:
        tot = sum(parse_dur(val(e, "duration") or "PT0S") for e in comp)
        pk = collections.Counter()
        for e in comp:
            m = val(e, "method") or {}
            cls = (m.get("type") or {}).get("name", "?").replace("/", ".")
            pk[cat(cls)] += parse_dur(val(e, "duration") or "PT0S")
        print(f"\n== JIT: {len(comp)} compilations over threshold, {tot:.2f} s; by library (s): "
              + ", ".join(f"{k} {v:.2f}" for k, v in pk.most_common(6)))
    de = load(a.jfr, ["jdk.Deoptimization"], depth=1)
    if de:
        dk = collections.Counter()
        for e in de:
            m = val(e, "method") or {}
            cls = (m.get("type") or {}).get("name", "?").replace("/", ".")
            dk[f"{cat(cls)} {val(e, 'reason')}/{val(e, 'action')}"] += 1
        print(f"== deoptimizations: {len(de)}; top: " + "; ".join(f"{k} x{v}" for k, v in dk.most_common(6)))

    # ------------------------------------------------------------ GC, CPU
    gc = load(a.jfr, ["jdk.GarbageCollection"], depth=1)
    tot = sum(parse_dur(val(e, "sumOfPauses") or "PT0S") for e in gc)
    longest = max((parse_dur(val(e, "longestPause") or "PT0S") for e in gc), default=0)
    names = collections.Counter(f"{val(e, 'name')}/{val(e, 'cause')}" for e in gc)
    print(f"\n== GC: {len(gc)} collections, pauses total {tot * 1000:.1f} ms, longest {longest * 1000:.2f} ms: {dict(names)}")
    hs = load(a.jfr, ["jdk.GCHeapSummary"], depth=1)
    if hs:
        used = [val(e, "heapUsed") for e in hs if val(e, "when") == "After GC"]
        if used:
            print(f"   heap used after GC: min {min(used) / 1048576:.0f} MiB, max {max(used) / 1048576:.0f} MiB")
    cpu = load(a.jfr, ["jdk.CPULoad"], depth=1)
    if cpu:
        f = lambda k: sum(val(e, k) for e in cpu) / len(cpu)
        print(f"== CPU (jdk.CPULoad, mean of {len(cpu)}): jvm user {f('jvmUser') * 100:.0f}% + system "
              f"{f('jvmSystem') * 100:.0f}% of the machine, machine total {f('machineTotal') * 100:.0f}%")


def parse_dur(d):
    if isinstance(d, (int, float)):
        return float(d)
    # ISO-8601 "PT0.001234S" / "PT1M2.5S"
    d = d.replace("PT", "")
    secs = 0.0; num = ""
    for ch in d:
        if ch.isdigit() or ch in ".-":
            num += ch
        else:
            v = float(num or 0); num = ""
            secs += v * {"H": 3600, "M": 60, "S": 1}.get(ch, 0)
    return secs


if __name__ == "__main__":
    main()
