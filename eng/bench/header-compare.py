#!/usr/bin/python3
"""Every read of an instance's header for one database history, for a before/after comparison of two builds.

  eng/bench/header-compare.py write <base-url> <api-key> <studies-json>
                                                            after eng/bench/feed-compare.py write (an instance
                                                            replaced, patients updated and merged, a study moved):
                                                            a study reconciled into a new one, a patient erased
  eng/bench/header-compare.py capture <base-url> <api-key> <out.json> <times.tsv>
                                                            per study: QIDO-RS instances with includefield=all,
                                                            the study's and each series' metadata (JSON), the PACS
                                                            study listing; QIDO-RS instance queries matching header
                                                            attributes, paged: the response bodies, byte for byte;
                                                            the time of each study metadata read (the first after a start)
(eng/bench/header-compare.sh runs both builds on one database and compares.)
"""
import json, sys, time, urllib.error, urllib.request

from pydicom.uid import generate_uid

mode, base, key = sys.argv[1], sys.argv[2].rstrip("/"), sys.argv[3]


def request(method, path, body=None, headers=None):
    req = urllib.request.Request(base + path, data=body, method=method, headers={"Authorization": key, **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=120) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def post(path, body):
    status, answer = request("POST", path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    assert status == 200, (path, status, answer)
    return json.loads(answer)


if mode == "write":
    # After eng/bench/feed-compare.py write (stores, a replacement, an update, a merge, a move; its studies in argv[4]).
    studies = json.loads(sys.argv[4])
    post("/o3-dpacs-wado/studies/reconcile", {"sourceStudyInstanceUID": studies[1], "targetStudyInstanceUID": generate_uid(), "patientID": "HC-R",
                                              "patientName": "HEADER^RECONCILED", "patientBirthDate": "19010101", "patientSex": "M",
                                              "accessionNumber": "AN-R", "studyDescription": "Reconciled", "studyDate": "20211229", "userName": "u"})
    post("/admin/patients/erase", {"patientId": "FC-0", "reason": "request"})
elif mode == "capture":
    out, times = {}, []

    def get(path):
        started = time.perf_counter()
        status, body = request("GET", path)
        out[path] = f"{status} {body.decode()}"
        return status, body, (time.perf_counter() - started) * 1000

    uids = []
    offset = 0
    while True:
        status, body, _ = get(f"/dicomweb/studies?limit=100&offset={offset}")
        page = json.loads(body) if status == 200 else []
        uids += [s["0020000D"]["Value"][0] for s in page]
        if len(page) < 100:
            break
        offset += 100
    for study in uids:
        _, _, ms = get(f"/dicomweb/studies/{study}/metadata")
        times.append(ms)
        get(f"/dicomweb/studies/{study}/instances?includefield=all")
        get(f"/o3-dpacs-wado/studyInstances?studyUid={study}")
        status, body, _ = get(f"/dicomweb/studies/{study}/series")
        for series in json.loads(body) if status == 200 else []:
            get(f"/dicomweb/studies/{study}/series/{series['0020000E']['Value'][0]}/metadata")
    for query in ("ImageType=ORIGINAL", "ContentDate=19000101-20991231&includefield=00080008", "Manufacturer=GE*", "ImageType=NONE"):
        for offset in range(0, 4000, 1000):
            get(f"/dicomweb/instances?{query}&limit=1000&offset={offset}")
    json.dump(out, open(sys.argv[4], "w"), sort_keys=True)
    with open(sys.argv[5], "w") as f:
        f.writelines(f"{ms:.2f}\n" for ms in times)
    times.sort()
    print(f"{len(out)} captures; study metadata (first read after start) ms p50 {times[len(times) // 2]:.1f} p90 {times[int(len(times) * 0.9)]:.1f} p99 {times[int(len(times) * 0.99)]:.1f} max {times[-1]:.1f}")
