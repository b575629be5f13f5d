// A tally whose notes read as the points models' notes are shown (in the words of the card file).
import { tallyInWords } from '../../support/wording.ts';

const input = <V extends number | boolean | string>(name: string, value: V) => ({ name, value, source: 'derived' });

describe('PointsTally', () => {
  it('adds scored items and widens the range by each missing item (min and max)', () => {
    const t = tallyInWords<'a' | 'b' | 'c'>({ a: input('a', 3) });
    t.add('a', { points: 2, band: 'a ≥ 3' }, { max: 5 });
    t.add('b', undefined, { min: 1, max: 4 });
    t.add('c', undefined, { max: 2 });
    expect(t.known).toBe(2);
    expect(t.range).toEqual({ min: 3, max: 8 });
    expect(t.missing).toEqual(['b', 'c']);
    expect(t.contributions).toEqual([{ input: 'a', points: 2, band: 'a ≥ 3' }]);
  });

  it('names the unknown parts of an "A or B" item', () => {
    const t = tallyInWords<'x'>({});
    t.add('aOrB', undefined, { max: 1 }, ['a', 'b']);
    expect(t.missing).toEqual(['a', 'b']);
  });

  it('treats a given but unusable value as missing and says so; an absent one silently', () => {
    const t = tallyInWords<'n' | 'neg' | 'flag' | 'none'>({ n: input('n', 'high'), neg: input('neg', -1), flag: input('flag', 1) });
    expect(t.number('n')).toBeUndefined();
    expect(t.number('neg')).toBeUndefined();
    expect(t.number('neg', () => true)).toBe(-1);
    expect(t.boolean('flag')).toBeUndefined();
    expect(t.number('none')).toBeUndefined();
    expect(t.notes).toEqual([
      'n: value high is not usable; treated as missing.',
      'neg: value -1 is not usable; treated as missing.',
      'flag: value 1 is not yes/no; treated as missing.',
    ]);
    expect(t.echoed().map((i) => i.name)).toEqual(['n', 'neg', 'flag']);
  });

  it('names the items in the notes with the labels given (words, not input keys)', () => {
    const t = tallyInWords<'heartRate' | 'cardiacArrest'>({ heartRate: input('heartRate', -3), cardiacArrest: input('cardiacArrest', 'x') }, { heartRate: 'heart rate', cardiacArrest: 'cardiac arrest' });
    t.number('heartRate');
    t.boolean('cardiacArrest');
    expect(t.notes).toEqual(['heart rate: value -3 is not usable; treated as missing.', 'cardiac arrest: value x is not yes/no; treated as missing.']);
  });
});
