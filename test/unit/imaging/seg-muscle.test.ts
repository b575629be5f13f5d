// L3 muscle area from a SEG and its CT slice, on phantoms whose area is known exactly (fat, bone and
// the window's edges inside the mask; muscle density outside it; a different count on every slice).
import dcmjs from 'dcmjs';
import { buildCtPhantom, type CtPhantomSpec } from '../../../src/demo/imaging/ct-phantom.ts';
import { uidFor } from '../../../src/demo/imaging/dicom-builders.ts';
import { datasetSchema, TAG, type DicomDataset } from '../../../src/imaging/dicom-json.ts';
import { muscleArea, planL3 } from '../../../src/imaging/seg-muscle.ts';

dcmjs.log.setLevel('silent');
dcmjs.log.getLogger('validation.dcmjs').setLevel('silent');
const labels = { muscle: ['skeletal_muscle'], l3: ['vertebrae_L3'] };
const patient = { patientId: 'P-CT', patientName: 'Phantom^CT', studyUid: uidFor('ct-study'), studyDate: '20260301', studyDescription: 'CT ABDOMEN' };

const parse = (part10: Uint8Array): DicomDataset => datasetSchema.parse(dcmjs.data.DicomMessage.readFile(part10.slice().buffer).dict);
const frameOf = (ds: DicomDataset): Uint8Array => {
  const v = ds[TAG.PixelData]?.Value?.[0];
  if (!(v instanceof ArrayBuffer)) throw new Error('no pixel data');
  return new Uint8Array(v);
};

function run(spec: Partial<CtPhantomSpec>) {
  const phantom = buildCtPhantom({
    patient, seed: JSON.stringify(spec), rows: 64, columns: 64, pixelSpacing: [0.8, 0.7], slices: 1, l3Slice: 0, musclePixels: 1000, l3Segment: false, ...spec,
  });
  const seg = phantom.files.at(-1);
  if (!seg) throw new Error('no SEG');
  const plan = planL3(seg, labels);
  if (!plan.ok) return { phantom, plan, area: undefined };
  const ctIndex = phantom.ctSopUids.indexOf(plan.value.source.sopInstanceUid);
  const ct = phantom.files[ctIndex];
  if (!ct) throw new Error('source CT not in the phantom');
  const ds = parse(ct);
  return { phantom, plan, area: muscleArea(plan.value, ds, frameOf(ds)) };
}

describe('L3 muscle area from a SEG and its CT slice', () => {
  it('counts mask ∧ −29..150 HU × pixel spacing: 1002 pixels × 0.8 × 0.7 mm = 5.6112 cm²', () => {
    const { plan, area } = run({});
    expect(plan.ok && plan.value.rule).toMatch(/one CT slice/);
    expect(area).toEqual({ ok: true, value: { areaCm2: 5.6112, musclePixels: 1002, maskPixels: 1000 + 4 + 204 + 136, pixelSpacing: [0.8, 0.7] } });
  });

  it('masks the bits above BitsStored and reads two\'s complement stored values', () => {
    for (const spec of [
      { highBitNoise: true },
      { pixelRepresentation: 1 as const, bitsStored: 16, intercept: 0 },
      { pixelRepresentation: 1 as const, bitsStored: 12, intercept: 0, highBitNoise: true },
      { slope: 0.5, intercept: -1024 },
    ]) {
      const { area, phantom } = run(spec);
      expect(area).toMatchObject({ ok: true, value: { areaCm2: phantom.expectedAreaCm2, musclePixels: 1002 } });
    }
  });

  it('picks the muscle slice at the middle of the L3 vertebra segment (frames not byte-aligned)', () => {
    const { plan, area, phantom } = run({ rows: 33, columns: 31, slices: 5, l3Slice: 2, l3Segment: true, musclePixels: 300 });
    expect(plan.ok && plan.value.source.sopInstanceUid).toBe(phantom.ctSopUids[2]);
    expect(plan.ok && plan.value.rule).toMatch(/L3 vertebra segment/);
    expect(area).toMatchObject({ ok: true, value: { musclePixels: 302, areaCm2: phantom.expectedAreaCm2 } });
    expect(phantom.expectedAreaCm2).toBe(1.6912); // 302 × 0.56 mm² / 100
  });

  it('reads a FRACTIONAL segmentation: a pixel is in the mask at half occupancy or more', () => {
    const { area, phantom } = run({ segmentationType: 'FRACTIONAL', slices: 3, l3Slice: 1, l3Segment: true });
    expect(area).toMatchObject({ ok: true, value: { musclePixels: 1002, areaCm2: phantom.expectedAreaCm2 } });
  });

  it('gives no area when the L3 level cannot be told, the grid differs, or rescale is missing', () => {
    const multi = run({ slices: 3, l3Slice: 1, l3Segment: false });
    expect(multi.plan).toEqual({ ok: false, reason: expect.stringMatching(/muscle on 3 CT slices but marks no L3 level/) });
    const noMuscle = run({ muscleLabel: 'liver' });
    // the SNOMED CT code still says skeletal muscle: the label is only an alternative
    expect(noMuscle.plan.ok).toBe(true);

    const { plan, phantom } = run({});
    if (!plan.ok) throw new Error('plan');
    const ct = parse(phantom.files[0] ?? new Uint8Array());
    const smaller = { ...ct, [TAG.Rows]: { vr: 'US', Value: [32] } };
    expect(muscleArea(plan.value, smaller, frameOf(ct))).toEqual({ ok: false, reason: expect.stringMatching(/grid/) });
    const { [TAG.RescaleSlope]: _slope, ...noRescale } = ct;
    expect(muscleArea(plan.value, noRescale, frameOf(ct))).toEqual({ ok: false, reason: expect.stringMatching(/rescale/) });
  });

  it('refuses what is not a SEG', () => {
    const { phantom } = run({});
    expect(planL3(phantom.files[0] ?? new Uint8Array(), labels)).toEqual({ ok: false, reason: 'the object is not a DICOM SEG' });
    expect(planL3(new Uint8Array([1, 2, 3]), labels)).toEqual({ ok: false, reason: 'the SEG could not be read' });
  });
});
