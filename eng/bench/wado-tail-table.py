"""Reads eng/bench/wado-tail.sh's results folder: per run, the full pass's WADO-RS instance rate, p50/p99 and its ten
slowest requests (with their start within the phase), then the second pass's rate, p50/p99 and, per request, the
server's CPU, PostgreSQL's CPU and the server threads' context switches; then the medians per target."""
import json, pathlib, statistics, sys

out, n = pathlib.Path(sys.argv[1]), int(sys.argv[2])
print("| run | full pass: WADO inst req/s | p50 / p99 ms | ten slowest ms (start ms in phase) | pass 2: req/s | p50 / p99 ms | server CPU ms/req | PG CPU ms/req | context switches/req vol + invol | threads | peak RSS MiB | load 1-min |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
per = {}
for full in sorted(out.glob("run*-*.json"), key=lambda p: (int(p.stem.split("-")[0][3:]), p.stem)):
    if full.stem.endswith("pass2") or not (out / f"{full.stem}-pass2.json").exists() or not (out / f"{full.stem}.after").exists():
        continue
    name = full.stem; target = name.split("-")[1]
    f = json.loads(full.read_text())["wado_instance"]; p = json.loads((out / f"{name}-pass2.json").read_text())["wado_instance"]
    rows = [l.split("\t") for l in (out / f"{name}.latencies").read_text().splitlines() if l.startswith("wado_instance")]
    slow = sorted(((float(e), float(s)) for _, s, e, _ in rows), reverse=True)[:10]
    b = [float(x) for x in (out / f"{name}.before").read_text().split()]; a = [float(x) for x in (out / f"{name}.after").read_text().split()]
    load = (out / f"{name}.load").read_text().split()
    rss = int((out / f"{name}.peak-rss-kb").read_text()) / 1024
    cpu, pg, vol, inv = (a[0] - b[0]) / n, (a[4] - b[4]) / n, (a[1] - b[1]) / n, (a[2] - b[2]) / n
    per.setdefault(target, []).append((f["p99_ms"], p["p99_ms"], cpu, pg, vol, inv, f["requests_per_s"]))
    print(f"| {name} | {f['requests_per_s']:,.0f} | {f['p50_ms']} / {f['p99_ms']} | {' '.join(f'{e:.1f}({s:.0f})' for e, s in slow)} | {p['requests_per_s']:,.0f} | {p['p50_ms']} / {p['p99_ms']} | {cpu:.3f} | {pg:.3f} | {vol:.2f} + {inv:.2f} | {int(a[3])} | {rss:.1f} | {' / '.join(load)} |")
print()
print("| target | runs | full-pass p99 ms, median (min–max) | pass-2 p99 ms, median | server CPU ms/req, median | PG CPU ms/req | voluntary switches/req | involuntary | full-pass req/s |")
print("|---|---|---|---|---|---|---|---|---|")
for target, values in sorted(per.items()):
    col = list(zip(*values)); med = lambda i: statistics.median(col[i])
    print(f"| {target} | {len(values)} | {med(0):.2f} ({min(col[0]):.2f}–{max(col[0]):.2f}) | {med(1):.2f} | {med(2):.3f} | {med(3):.3f} | {med(4):.2f} | {med(5):.2f} | {med(6):,.0f} |")
