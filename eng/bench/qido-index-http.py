#!/usr/bin/env python3
"""p50/p99 of QIDO requests over HTTP, one keep-alive connection per client (a small loop, no harness).
   python3 eng/bench/qido-index-http.py <base-url e.g. http://127.0.0.1:6301/dicomweb> <api key> <repeat> <url> [<url> ...]
Each URL is asked <repeat> times by 2 clients; prints one line per URL: p50, p99, max, rows, statuses."""
import http.client, json, sys, threading, time, urllib.parse

base, key, repeat, urls = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
parts = urllib.parse.urlsplit(base)

def percentile(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, max(0, -(-int(q * len(s) * 1000) // 1000) - 1))] if s else 0.0

for url in urls:
    times, rows, statuses, lock = [], [], {}, threading.Lock()
    todo = list(range(repeat))
    def client():
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        while True:
            with lock:
                if not todo: break
                todo.pop()
            started = time.perf_counter()
            conn.request("GET", parts.path + "/" + url, headers={"Authorization": key, "Accept": "application/dicom+json"})
            response = conn.getresponse(); body = response.read()
            ms = (time.perf_counter() - started) * 1000
            with lock:
                times.append(ms); statuses[response.status] = statuses.get(response.status, 0) + 1
                rows.append(len(json.loads(body)) if response.status == 200 else 0)
        conn.close()
    threads = [threading.Thread(target=client) for _ in range(2)]
    [t.start() for t in threads]; [t.join() for t in threads]
    print(f"{url}\tp50 {percentile(times, 0.5):.1f}\tp99 {percentile(times, 0.99):.1f}\tmax {max(times):.1f}\trows {max(rows)}\tstatuses {statuses}", flush=True)
