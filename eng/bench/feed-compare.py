#!/usr/bin/python3
"""The study feed's responses for one database history, for a before/after comparison of two builds.

  eng/bench/feed-compare.py write <base-url> <api-key>    a history beyond plain stores: instances stored,
                                                          one replaced, patients updated, merged, a study moved
  eng/bench/feed-compare.py capture <base-url> <api-key> <out.json>
                                                          every page of studyEvents (limit 7 and 1000), of the
                                                          change feed (with and without metadata, limit 13 and
                                                          200, a time window), its latest, and the audit history
                                                          of every study: the response bodies, byte for byte
  eng/bench/feed-compare.py time <base-url> <api-key> [rounds]
                                                          read latency: every page of studyEvents (limit 100) and
                                                          of the change feed (limit 100, with metadata), rounds times
(eng/bench/feed-compare.sh runs both builds on one database and compares.)
"""
import io, json, sys, time, urllib.parse, urllib.request

import pydicom
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

mode, base, key = sys.argv[1], sys.argv[2].rstrip("/"), sys.argv[3]


def request(method, path, body=None, headers=None):
    req = urllib.request.Request(base + path, data=body, method=method, headers={"Authorization": key, **(headers or {})})
    with urllib.request.urlopen(req, timeout=120) as response:
        return response.read()


def stow(ds):
    out = io.BytesIO()
    ds.save_as(out, write_like_original=False)
    body = b"--XX\r\nContent-Type: application/dicom\r\n\r\n" + out.getvalue() + b"\r\n--XX--\r\n"
    request("POST", "/dicomweb/studies", body, {"Content-Type": 'multipart/related; type="application/dicom"; boundary=XX'})


def document_e(route, body):
    return json.loads(request("POST", "/o3-dpacs-wado/" + route, json.dumps(body).encode(), {"Content-Type": "application/json"}))


def settled():
    return json.loads(request("GET", "/o3-dpacs-wado/studyEvents?offsetId=0&limit=1"))["settledOffsetId"]


if mode == "write":
    template = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    studies = []
    for p in range(3):
        study = generate_uid()
        for s in range(2):
            series = generate_uid()
            for i in range(3):
                ds = template.copy()
                ds.PatientID, ds.PatientName = f"FC-{p}", f"COMPARE^P{p}"
                ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID = study, series, generate_uid()
                ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
                stow(ds)
                last = ds
        studies.append(study)
    # The same SOP instance with other bytes: an update in the change feed, previousSha256 in the details.
    last.SeriesDescription = "replaced"
    stow(last)
    document_e("patients/update", {"patientID": "FC-0", "patientName": "COMPARE^RENAMED", "userName": "u"})
    document_e("patients/merge", {"sourcePatientID": "FC-1", "targetPatientID": "FC-2", "userName": "u"})
    document_e("studies/move", {"studyInstanceUid": studies[2], "targetPatientID": "FC-9", "patientName": "COMPARE^MOVED", "userName": "u"})
    print(json.dumps(studies))
elif mode == "capture":
    out = {}
    target = json.loads(request("GET", "/o3-dpacs-wado/studyEvents?offsetId=0&limit=1"))["settledOffsetId"]
    def walk(url, entries, advance):
        """Every page from position 0 until an empty one: the bodies as received."""
        position, pages = 0, []
        while True:
            body = request("GET", url(position))
            page = json.loads(body)
            pages.append(body.decode())
            if not entries(page):
                return pages
            position = advance(page, position)

    for limit in (7, 1000):
        out[f"studyEvents limit={limit}"] = walk(
            lambda after: f"/o3-dpacs-wado/studyEvents?offsetId={after}&limit={limit}", lambda p: p["events"], lambda p, _: p["lastOffsetId"])
    for metadata in ("true", "false"):
        for limit in (13, 200):
            out[f"changefeed metadata={metadata} limit={limit}"] = walk(
                lambda offset: f"/dicomweb/changefeed?offset={offset}&limit={limit}&includemetadata={metadata}", lambda p: p, lambda p, offset: offset + len(p))
    stamps = [e["Timestamp"] for page in out["changefeed metadata=false limit=200"] for e in json.loads(page)]
    stamps.sort()
    window = f"startTime={urllib.parse.quote(stamps[len(stamps) // 3])}&endTime={urllib.parse.quote(stamps[2 * len(stamps) // 3])}"
    out["changefeed window"] = request("GET", f"/dicomweb/changefeed?{window}&limit=200").decode()
    out["changefeed latest"] = request("GET", "/dicomweb/changefeed/latest").decode()
    studies = sorted({e["studyInstanceUid"] for p in out["studyEvents limit=1000"] for e in json.loads(p)["events"]})
    for study in studies:
        out[f"audit {study}"] = request("GET", f"/audit/studies/{study}/history").decode()
    json.dump(out, open(sys.argv[4], "w"), indent=0)
    print(f"{len(out)} captures, {sum(len(v) for v in out.values() if isinstance(v, list))} pages, settled {target}")
elif mode == "time":
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 3

    def timed(path):
        started = time.perf_counter()
        body = request("GET", path)
        return (time.perf_counter() - started) * 1000, json.loads(body)

    figures = {"studyEvents": [], "changefeed": []}
    for _ in range(rounds):
        after = 0
        while True:
            ms, page = timed(f"/o3-dpacs-wado/studyEvents?offsetId={after}&limit=100")
            if not page["events"]:
                break
            figures["studyEvents"].append(ms)
            after = page["lastOffsetId"]
        offset = 0
        while True:
            ms, page = timed(f"/dicomweb/changefeed?offset={offset}&limit=100&includemetadata=true")
            if not page:
                break
            figures["changefeed"].append(ms)
            offset += len(page)
    for name, values in figures.items():
        values.sort()
        print(f"{name}: {len(values)} pages of 100, ms p50 {values[len(values) // 2]:.1f} p90 {values[int(len(values) * 0.9)]:.1f} max {values[-1]:.1f}")
