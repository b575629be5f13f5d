// Model results in words, as the services show them: each model's notes (and the CMR markers' and
// thrombus features' texts) worded by the card file of the service that reports the model.
import type { ModelResult } from '../../src/models/types.ts';
import type { CmrMarkerAssessment } from '../../src/models/cmr-markers.ts';
import type { ThrombusFeaturesResult } from '../../src/models/thrombus-features.ts';
import { PointsTally } from '../../src/models/points-tally.ts';
import { DEFAULT_PROFILES_DIR } from '../../src/fhir/terminology.ts';
import { shown, type Shown } from '../../src/services/model-notes.ts';
import { cirrhosisSarcopenia } from '../../src/services/cirrhosis-sarcopenia/index.ts';
import { cmrIhdMacce } from '../../src/services/cmr-ihd-macce/index.ts';
import { cmrCardiacMass } from '../../src/services/cmr-cardiac-mass/index.ts';
import { wordMarkers, type WordedMarkers } from '../../src/services/cmr-ihd-macce/markers.ts';
import { wordThrombus, type WordedThrombus } from '../../src/services/cmr-cardiac-mass/thrombus.ts';
import { noteText } from '../../src/services/model-notes.ts';

const dirs = { profilesDir: DEFAULT_PROFILES_DIR };
const cirrhosis = cirrhosisSarcopenia.loadWording(dirs);
const macce = cmrIhdMacce.loadWording(dirs);
const mass = cmrCardiacMass.loadWording(dirs);

/** A cirrhosis-sarcopenia model's result in words (cards/cirrhosis-sarcopenia.yaml). */
export const inCirrhosisWords = <R extends ModelResult>(r: R): Shown<R> => shown(r, cirrhosis.modelNotes);
/** A cmr-ihd-macce model's result in words (cards/cmr-ihd-macce.yaml). */
export const inMacceWords = <R extends ModelResult>(r: R): Shown<R> => shown(r, macce.modelNotes);
/** A cmr-cardiac-mass model's result in words (cards/cmr-cardiac-mass.yaml). */
export const inMassWords = <R extends ModelResult>(r: R): Shown<R> => shown(r, mass.modelNotes);
export const markersInWords = (m: CmrMarkerAssessment): WordedMarkers => wordMarkers(m, macce);
export const thrombusInWords = (t: ThrombusFeaturesResult): WordedThrombus => wordThrombus(t, mass);

/** A PointsTally whose `notes` read as the points models' notes are shown (cards/cmr-ihd-macce.yaml). */
export function tallyInWords<K extends string>(...args: ConstructorParameters<typeof PointsTally<K>>) {
  const t = new PointsTally<K>(...args);
  return {
    add: t.add.bind(t),
    number: t.number.bind(t),
    boolean: t.boolean.bind(t),
    echoed: t.echoed.bind(t),
    get known() { return t.known; },
    get range() { return t.range; },
    get missing() { return t.missing; },
    get contributions() { return t.contributions; },
    get notes(): string[] { return t.notes.map((n) => noteText(n, macce.modelNotes)); },
  };
}
