#!/usr/bin/python3
"""Builds the scale run's markdown tables from its results folder (eng/bench/scale.sh calls it after
every measuring point). Usage: eng/bench/scale-table.py <results-folder>"""
import json, pathlib, re, sys

out = pathlib.Path(sys.argv[1])
labels = sorted({p.name[:-len("-instances.txt")] for p in out.glob("at-*-instances.txt")}, key=lambda l: int(l[3:]))


def read(name, default=None):
    p = out / name
    if not p.exists():
        return default
    text = p.read_text()
    return json.loads(text) if name.endswith(".json") else text.strip()


def num(x):
    return f"{x:,.1f}" if isinstance(x, float) else (f"{x:,}" if isinstance(x, int) else str(x))


print("| archive (instances) | STOW inst/s (4 clients, 1 study/request) | QIDO mix q/s (p50 / p99 ms) | WADO instance req/s (p99 ms) | "
      "study metadata req/s (p99 ms) | feed lag p50 / p99 ms | database B/instance | blobs B/instance (on disk) | server RSS / HWM MB | "
      "non-2xx (harness) | 5xx (wide) | load average |")
print("|" + "---|" * 12)
for label in labels:
    h = read(f"{label}-harness.json", {}) or {}
    w = read(f"{label}-wide.json", {}) or {}
    n = int(read(f"{label}-instances.txt", "0") or 0)
    db = int(read(f"{label}-db-bytes.txt", "0") or 0)
    blob, disk = int(read(f"{label}-blob-bytes.txt", "0") or 0), int(read(f"{label}-blob-disk-bytes.txt", "0") or 0)
    rss = (read(f"{label}-rss-kb.txt", "0 0") or "0 0").split()
    feed = read(f"{label}-feed.txt", "") or ""
    m = re.search(r"p50 ([\d.]+).*p99 ([\d.]+)", feed)
    failures = sum(h.get(k, {}).get("failures", 0) for k in ("stow", "qido", "wado_instance", "wado_study_metadata"))
    st, qi, wi, wm = (h.get(k, {}) for k in ("stow", "qido", "wado_instance", "wado_study_metadata"))
    print(f"| {n:,} | {num(st.get('instances_per_s', '-'))} | {num(qi.get('queries_per_s', '-'))} ({qi.get('p50_ms', '-')} / {qi.get('p99_ms', '-')}) | "
          f"{num(wi.get('requests_per_s', '-'))} ({wi.get('p99_ms', '-')}) | {num(wm.get('requests_per_s', '-'))} ({wm.get('p99_ms', '-')}) | "
          f"{m.group(1) + ' / ' + m.group(2) if m else '-'} | {db // max(n, 1):,} | {blob // max(n, 1):,} ({disk // max(n, 1):,}) | "
          f"{int(rss[0]) // 1024} / {int(rss[1]) // 1024} | {failures} | {w.get('http_5xx', '-')} | {read(f'{label}-loadavg.txt', '-')} |")

loads = sorted(out.glob("load-to-*.json"), key=lambda p: int(p.stem[len("load-to-"):]))
if loads:
    print()
    print("| bulk load | instances stored | seconds | instances/s | server CPU ms/instance | 503 retries | 5xx | other failures |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for p in loads:
        d = json.loads(p.read_text())
        ticks = read(p.stem + "-cpu-ticks.txt")
        cpu = f"{int(ticks) * 10 / max(d['instances_stored'], 1):.2f}" if ticks else "(running)"
        print(f"| {p.stem} | {d['instances_stored']:,} | {d['seconds']:,} | {d['instances_per_s']} | {cpu} | {d['retries_after_503']} | "
              f"{d['http_5xx']} | {d['instances_failed']:,} |")

kinds = []
for label in labels:
    for source in ("harness", "wide"):
        d = read(f"{label}-{source}.json", {}) or {}
        for k in (d.get("qido_by_query", {}) if source == "harness" else {k: v for k, v in d.items() if isinstance(v, dict)}):
            if k not in kinds:
                kinds.append(k)
if kinds:
    print()
    print("| query | " + " | ".join(f"p50 / p99 ms at {l[3:]}" for l in labels) + " | rows (wide) | statuses at last point |")
    print("|---|" + "---:|" * len(labels) + "---|---|")
    for k in kinds:
        cells, rows, statuses = [], [], "-"
        for label in labels:
            h = (read(f"{label}-harness.json", {}) or {}).get("qido_by_query", {})
            w = read(f"{label}-wide.json", {}) or {}
            v = h.get(k) or w.get(k)
            cells.append(f"{v['p50_ms']} / {v['p99_ms']}" if v else "-")
            if k in w:
                rows.append(str(w[k]["rows"]))
                statuses = ", ".join(f"{s}×{c}" for s, c in w[k]["statuses"].items())
            elif v:
                statuses = f"{v['failures']} failures"
        print(f"| {k} | " + " | ".join(cells) + f" | {' → '.join(rows) or '-'} | {statuses} |")
