"""Reads eng/bench/tail.sh's results folder: per run and WADO-RS phase, the rate, p50/p99, CPU ms per request, and
where the slowest 1 % of requests came from (started in the phase's first 4 requests, a study's first request in
the phase, or neither); then the p99 of the requests that were neither, and the p50 / p95 of a study's first request
of the phase (the phase's first 4 excluded) against the p50 of the others."""
import json, pathlib, sys

out = pathlib.Path(sys.argv[1])
def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, max(0, -(-int(q * len(values) * 1000) // 1000) - 1))] if values else 0

print("| run | phase | req/s | p50 / p99 ms | CPU ms/req server+PG | first 4 requests, slowest ms | slowest 1 %: at start / first of study / other | p99 without the phase's first 4 and studies' first | studies' first p50 / p95 ms | others p50 ms | harness gen0 GCs (pause ms) | load 1-min before / after |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for result in sorted(out.glob("run*.json"), key=lambda p: (int(p.stem.split("-")[0][3:]), p.stem)):
    r = json.loads(result.read_text())
    rows = [line.split("\t") for line in (out / f"{result.stem}.latencies").read_text().splitlines()]
    load = (out / f"{result.stem}.load").read_text().split()
    for phase in ["wado_instance", "wado_study_metadata"]:
        reqs = sorted(((float(s), float(e), u) for p, s, e, u in rows if p == phase), key=lambda x: x[0])
        seen, tagged = set(), []
        for i, (s, e, u) in enumerate(reqs):
            study = u.split("/")[1]
            kind = "start" if i < 4 else "first" if study not in seen else "other"
            seen.add(study); tagged.append((e, kind))
        slow = sorted(tagged, reverse=True)[:max(1, len(tagged) // 100)]
        counts = {k: sum(1 for _, kk in slow if kk == k) for k in ["start", "first", "other"]}
        rest = [e for e, k in tagged if k == "other"]
        firsts = [e for e, k in tagged if k == "first"]
        p = r[phase]
        cpu = f"{p.get('server_cpu_ms_per_unit', 0):.3f}+{p.get('db_cpu_ms_per_unit', 0):.3f}"
        start = max((e for e, k in tagged[:4]), default=0)
        gc = f"{p['harness_gc0']} ({p['harness_gc_pause_ms']})" if "harness_gc0" in p else "-"
        print(f"| {result.stem} | {phase} | {p['requests_per_s']:,.0f} | {p['p50_ms']} / {p['p99_ms']} | {cpu} | {start:.1f} | {counts['start']} / {counts['first']} / {counts['other']} | {pct(rest, 0.99):.2f} | {pct(firsts, 0.5):.2f} / {pct(firsts, 0.95):.2f} | {pct(rest, 0.5):.2f} | {gc} | {' / '.join(load)} |")
