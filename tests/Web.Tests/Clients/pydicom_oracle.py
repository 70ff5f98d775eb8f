"""The outside oracle of the real-client tests, with pydicom (not our codec).

make-study DIR: writes one CT study into DIR from pydicom's CT_small.dcm: series 1 has five native slices,
  series 2 three slices that the caller compresses with DCMTK's dcmcjpeg; each slice's pixels differ.
  Prints {"study": uid, "files": [...]}.
frames FILE...: prints {sop: [sha256 of each frame's bytes as stored, native frames little endian]}.
sha FILE...: prints {sop: sha256 of the file's bytes}.
"""
import hashlib
import json
import os
import sys

import numpy
import pydicom
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

try:
    from pydicom.encaps import generate_pixel_data_frame as _frames
except ImportError:  # pydicom 3
    from pydicom.encaps import generate_frames as _frames


def make_study(folder):
    study, frame_of_reference = generate_uid(), generate_uid()
    files = []
    for series_number, count in ((1, 5), (2, 3)):
        series = generate_uid()
        for number in range(1, count + 1):
            ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
            ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame_of_reference
            ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
            ds.SeriesNumber, ds.InstanceNumber = series_number, number
            ds.PatientName, ds.PatientID = "DOE^JANE", "VIEWER-1"
            pixels = ds.pixel_array.astype(numpy.int32) + 7 * (10 * series_number + number)
            ds.PixelData = numpy.clip(pixels, 0, 4095).astype(ds.pixel_array.dtype).tobytes()
            path = os.path.join(folder, f"s{series_number}_{number}.dcm")
            ds.save_as(path, write_like_original=False)
            files.append(path)
    print(json.dumps({"study": study, "files": files}))


def frames(paths):
    result = {}
    for path in paths:
        ds = pydicom.dcmread(path)
        count = int(getattr(ds, "NumberOfFrames", 1) or 1)
        if ds.file_meta.TransferSyntaxUID.is_compressed:
            data = [bytes(f) for f in _frames(ds.PixelData, nr_frames=count)]
        elif ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.2":
            # Big endian: pydicom's pixel array, written little endian (frames first when there are several).
            array = ds.pixel_array if count > 1 else ds.pixel_array[numpy.newaxis]
            little = array.astype(array.dtype.newbyteorder("<"))
            data = [little[i].tobytes() for i in range(count)]
        else:
            length = ds.Rows * ds.Columns * ds.SamplesPerPixel * ds.BitsAllocated // 8
            data = [ds.PixelData[i * length:(i + 1) * length] for i in range(count)]
        result[ds.SOPInstanceUID] = [hashlib.sha256(f).hexdigest() for f in data]
    print(json.dumps(result))


def shas(paths):
    print(json.dumps({pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID: hashlib.sha256(open(p, "rb").read()).hexdigest() for p in paths}))


if __name__ == "__main__":
    command, arguments = sys.argv[1], sys.argv[2:]
    {"make-study": lambda: make_study(arguments[0]), "frames": lambda: frames(arguments), "sha": lambda: shas(arguments)}[command]()
