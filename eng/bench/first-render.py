"""A study's first retrievals, one client, sequential (eng/bench/first-render.sh): every study's first WADO-RS
instance request on the node (the corpus's first instance of each study), then study-metadata requests each under
a Host header not seen before (the rendering is kept per study and base URL, so each one renders the study afresh).
Prints JSON: per kind the count, p50/p95 ms, and the server's and PostgreSQL's CPU ms per request (/proc)."""
import http.client, json, sys, time, os

port, key, server_pid, db_pid, renders = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
uids = json.loads(sys.stdin.read())  # [[study, series, sop], ...] one per study

def ticks(pid, children):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    t = int(f[11]) + int(f[12])
    return t + (int(f[13]) + int(f[14]) if children else 0)

def db_ticks():
    # the postmaster's reaped children plus its live backends
    total = ticks(db_pid, True)
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
                if int(f[1]) == db_pid:
                    total += int(f[11]) + int(f[12])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                pass
    return total

def run(requests):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    s0, d0 = ticks(server_pid, False), db_ticks()
    times = []
    for path, headers in requests:
        t = time.perf_counter()
        conn.request("GET", path, headers=headers)
        r = conn.getresponse(); r.read()
        times.append((time.perf_counter() - t) * 1000)
        assert r.status == 200, (path, r.status)
    s1, d1 = ticks(server_pid, False), db_ticks()
    times.sort()
    n = len(times)
    return {"count": n, "p50_ms": round(times[n // 2], 2), "p95_ms": round(times[int(n * 0.95) - 1], 2),
            "server_cpu_ms": round((s1 - s0) * 10 / n, 3), "db_cpu_ms": round((d1 - d0) * 10 / n, 3)}

auth = {"Authorization": key}
if sys.argv[6:] == ["renders-only"]:  # for a profiler: the fresh renderings alone
    print(json.dumps({"first_rendering": run([(f"/dicomweb/studies/{uids[i % len(uids)][0]}/metadata", {**auth, "Accept": "application/dicom+json", "Host": f"h{i}.example:{port}"}) for i in range(renders)])}))
    sys.exit(0)
first = run([(f"/dicomweb/studies/{st}/series/{se}/instances/{sop}", {**auth, "Accept": 'multipart/related; type="application/dicom"; transfer-syntax=*'}) for st, se, sop in uids])
meta = run([(f"/dicomweb/studies/{uids[i % len(uids)][0]}/metadata", {**auth, "Accept": "application/dicom+json", "Host": f"h{i}.example:{port}"}) for i in range(renders)])
warm = run([(f"/dicomweb/studies/{uids[i % len(uids)][0]}/metadata", {**auth, "Accept": "application/dicom+json", "Host": f"h{i}.example:{port}"}) for i in range(renders)])
print(json.dumps({"first_instance": first, "first_rendering": meta, "kept_rendering": warm}))
