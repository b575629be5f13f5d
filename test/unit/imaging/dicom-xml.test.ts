// PS3.19 Native DICOM Model → DICOM JSON model (PS3.18 F.2), and the adapter's metadata decoding.
// Orthanc's real XML is exercised in test/integration/imaging/imaging-orthanc.test.ts.
import { decodeMetadata } from '../../../src/imaging/fetch-xhr.ts';
import { multipartTextParts, parseNativeDicomModel } from '../../../src/imaging/dicom-xml.ts';

const DOC = `<?xml version="1.0" encoding="UTF-8"?>
<NativeDicomModel xmlns="http://dicom.nema.org/PS3.19/models/NativeDICOM">
  <DicomAttribute tag="00100010" vr="PN" keyword="PatientName">
    <PersonName number="1"><Alphabetic><FamilyName>Doe</FamilyName><GivenName>Jane</GivenName></Alphabetic></PersonName>
  </DicomAttribute>
  <DicomAttribute tag="00200032" vr="DS" keyword="ImagePositionPatient">
    <Value number="2">-2.5</Value><Value number="1">10</Value><Value number="3">3.25</Value>
  </DicomAttribute>
  <DicomAttribute tag="0008103E" vr="LO" keyword="SeriesDescription"><Value number="1">T1 &amp; T2 maps</Value></DicomAttribute>
  <DicomAttribute tag="00080050" vr="SH" keyword="AccessionNumber"/>
  <DicomAttribute tag="0040A730" vr="SQ" keyword="ContentSequence">
    <Item number="1">
      <DicomAttribute tag="0040A040" vr="CS" keyword="ValueType"><Value number="1">NUM</Value></DicomAttribute>
      <DicomAttribute tag="0040A300" vr="SQ" keyword="MeasuredValueSequence">
        <Item number="1"><DicomAttribute tag="0040A30A" vr="DS" keyword="NumericValue"><Value number="1">35.5</Value></DicomAttribute></Item>
      </DicomAttribute>
    </Item>
  </DicomAttribute>
  <DicomAttribute tag="7FE00010" vr="OB" keyword="PixelData"><BulkData uri="http://archive/bulk/1"/></DicomAttribute>
</NativeDicomModel>`;

describe('PS3.19 XML → DICOM JSON', () => {
  it('converts values in their number order, names, sequences, numbers and bulk data references', () => {
    expect(parseNativeDicomModel(DOC)).toEqual({
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane' }] },
      '00200032': { vr: 'DS', Value: [10, -2.5, 3.25] },
      '0008103E': { vr: 'LO', Value: ['T1 & T2 maps'] },
      '00080050': { vr: 'SH' },
      '0040A730': { vr: 'SQ', Value: [{ '0040A040': { vr: 'CS', Value: ['NUM'] }, '0040A300': { vr: 'SQ', Value: [{ '0040A30A': { vr: 'DS', Value: [35.5] } }] } }] },
      '7FE00010': { vr: 'OB', BulkDataURI: 'http://archive/bulk/1' },
    });
  });

  it('splits a multipart/related answer into its documents', () => {
    const body = `--b1\r\nContent-Type: application/dicom+xml\r\n\r\n${DOC}\r\n--b1\r\nContent-Type: application/dicom+xml\r\n\r\n${DOC}\r\n--b1--`;
    expect(multipartTextParts(body, 'b1')).toEqual([DOC, DOC]);
    const decoded = decodeMetadata(new TextEncoder().encode(body), 'multipart/related; type="application/dicom+xml"; boundary=b1');
    expect(decoded).toHaveLength(2);
    expect(decoded?.[1]?.['00100010']).toEqual({ vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane' }] });
  });

  it('decodes DICOM JSON, and refuses what is neither', () => {
    expect(decodeMetadata(new TextEncoder().encode('[{"00100020":{"vr":"LO","Value":["X"]}}]'), 'application/dicom+json')).toEqual([{ '00100020': { vr: 'LO', Value: ['X'] } }]);
    expect(decodeMetadata(new TextEncoder().encode('<html>nope</html>'), 'text/html')).toBeUndefined();
    expect(decodeMetadata(new TextEncoder().encode('{"not":"a list"}'), 'application/dicom+json')).toBeUndefined();
    expect(decodeMetadata(new TextEncoder().encode('[{"bad tag":{}}]'), 'application/json')).toBeUndefined();
    expect(decodeMetadata(new TextEncoder().encode('<html/>'), 'application/dicom+xml')).toBeUndefined();
  });
});
