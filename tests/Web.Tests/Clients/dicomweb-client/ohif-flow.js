// What OHIF's DICOMweb data source does for one study, through dicomweb-client unchanged:
// QIDO studies and series, WADO-RS series metadata, then the pixels of every instance, once through the
// PixelData BulkDataURI and once through the frames URL of each frame. Prints one JSON line per pixel
// value fetched (sha256 of the bytes) and a final summary line; exits non-zero on any failure.
// Usage: node ohif-flow.js <dicomweb base url> <Authorization header value> <StudyInstanceUID>
'use strict';
global.XMLHttpRequest = require('xhr2');
const crypto = require('crypto');
const DICOMwebClient = require('dicomweb-client');

const [url, authorization, studyInstanceUID] = process.argv.slice(2);
const client = new DICOMwebClient.api.DICOMwebClient({ url, headers: { Authorization: authorization } });
const sha = (buffer) => crypto.createHash('sha256').update(Buffer.from(buffer)).digest('hex');
const value = (dataset, tag) => (dataset[tag] && dataset[tag].Value ? dataset[tag].Value[0] : undefined);
const out = (line) => process.stdout.write(JSON.stringify(line) + '\n');
const asStored = [{ mediaType: 'application/octet-stream', transferSyntaxUID: '*' }];

async function main() {
  const studies = await client.searchForStudies({ queryParams: { StudyInstanceUID: studyInstanceUID } });
  if (studies.length !== 1) throw new Error(`searchForStudies found ${studies.length} studies`);
  out({ kind: 'study', patientName: value(studies[0], '00100010'), instances: value(studies[0], '00201208') });

  const series = await client.searchForSeries({ studyInstanceUID });
  let frames = 0;
  for (const s of series) {
    const seriesInstanceUID = value(s, '0020000E');
    const metadata = await client.retrieveSeriesMetadata({ studyInstanceUID, seriesInstanceUID });
    out({ kind: 'series', seriesInstanceUID, modality: value(s, '00080060'), instances: metadata.length });
    for (const instance of metadata) {
      const sopInstanceUID = value(instance, '00080018');
      const transferSyntax = value(instance, '00083002');
      const numberOfFrames = Number(value(instance, '00280008') || 1);
      const pixelData = instance['7FE00010'];
      if (!pixelData || !pixelData.BulkDataURI) throw new Error(`${sopInstanceUID}: PixelData has no BulkDataURI`);

      // The BulkDataURI, as OHIF's bulkDataURI option reads it (as stored: compressed instances are not transcoded).
      const bulk = await client.retrieveBulkData({ BulkDataURI: pixelData.BulkDataURI, mediaTypes: asStored });
      bulk.forEach((part, i) => out({ kind: 'bulkdata', sopInstanceUID, part: i + 1, sha256: sha(part), length: part.byteLength }));

      // Every frame through the frames URL: one request per frame, as cornerstone's image loader does,
      // with the library's default Accept for native data and transfer-syntax=* for compressed data.
      const compressed = transferSyntax && !['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2'].includes(transferSyntax);
      for (let frame = 1; frame <= numberOfFrames; frame++) {
        const parts = await client.retrieveInstanceFrames({
          studyInstanceUID, seriesInstanceUID, sopInstanceUID, frameNumbers: [frame],
          ...(compressed ? { mediaTypes: asStored } : {}),
        });
        if (parts.length !== 1) throw new Error(`${sopInstanceUID} frame ${frame}: ${parts.length} parts`);
        out({ kind: 'frame', sopInstanceUID, frame, sha256: sha(parts[0]), length: parts[0].byteLength });
        frames++;
      }
    }
  }

  out({ kind: 'done', series: series.length, frames });
}

main().catch((error) => {
  process.stderr.write(`${error.status || ''} ${error.message}\n${error.response ? Buffer.from(error.response).toString().slice(0, 500) : ''}\n`);
  process.exit(1);
});
