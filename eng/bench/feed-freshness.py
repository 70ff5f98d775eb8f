#!/usr/bin/python3
"""How soon a waiting study-feed consumer sees a stored instance.

For each of N instances: a consumer's GET /o3-dpacs-wado/studyEvents?offsetId=<last>&wait=10 is already
waiting when the instance is stored with STOW-RS; the figure is the time from the STOW response to the
consumer's answer that holds the instance. Prints p50/p90/p99/max.

  eng/bench/feed-freshness.py <base-url> <api-key> [count]
(eng/bench/feed-freshness.sh starts the service and runs this.)
"""
import io, json, statistics, sys, threading, time, urllib.request

import pydicom
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

base, key = sys.argv[1].rstrip("/"), sys.argv[2]
count = int(sys.argv[3]) if len(sys.argv) > 3 else 300
template = pydicom.dcmread(get_testdata_file("CT_small.dcm"))


def request(method, path, body=None, headers=None):
    req = urllib.request.Request(base + path, data=body, method=method, headers={"Authorization": key, **(headers or {})})
    with urllib.request.urlopen(req, timeout=120) as response:
        return response.read()


def instance():
    ds = template.copy()
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID = generate_uid(), generate_uid(), generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    out = io.BytesIO()
    ds.save_as(out, write_like_original=False)
    return ds.SOPInstanceUID, out.getvalue()


def stow(data):
    body = b"--XX\r\nContent-Type: application/dicom\r\n\r\n" + data + b"\r\n--XX--\r\n"
    request("POST", "/dicomweb/studies", body, {"Content-Type": 'multipart/related; type="application/dicom"; boundary=XX'})


offset = json.loads(request("GET", "/o3-dpacs-wado/studyEvents?offsetId=0&limit=1"))["settledOffsetId"]
latencies = []
for _ in range(count):
    sop, data = instance()
    seen = {}

    def consume():
        global offset
        after = offset
        while True:
            page = json.loads(request("GET", f"/o3-dpacs-wado/studyEvents?offsetId={after}&wait=10&limit=1000"))
            after = page["lastOffsetId"]
            if any(e.get("sopInstanceUid") == sop for e in page["events"]):
                seen["at"] = time.perf_counter()
                offset = after
                return

    consumer = threading.Thread(target=consume)
    consumer.start()
    time.sleep(0.02)  # the consumer's request is waiting before the STOW starts
    stow(data)
    stowed = time.perf_counter()
    consumer.join()
    latencies.append((seen["at"] - stowed) * 1000)

latencies.sort()
pick = lambda p: latencies[min(len(latencies) - 1, int(round(p / 100 * len(latencies))) - 1)]
print(f"{count} STOWs: STOW response -> feed consumer, ms: p50 {statistics.median(latencies):.1f}  p90 {pick(90):.1f}  "
      f"p99 {pick(99):.1f}  max {latencies[-1]:.1f}")
