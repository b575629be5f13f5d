// @lhncbc/ucum-lhc ships no types; we use only UcumLhcUtils.convertUnitTo.
declare module '@lhncbc/ucum-lhc' {
  interface ConvertResult {
    status: 'succeeded' | 'failed' | 'error';
    toVal: number | null;
    msg: string[];
  }
  interface UcumLhcUtils {
    convertUnitTo(fromUnitCode: string, fromVal: number, toUnitCode: string, options?: { molecularWeight?: number; charge?: number }): ConvertResult;
    validateUnitString(unit: string, suggest?: boolean): { status: 'valid' | 'invalid' | 'error'; ucumCode: string | null; msg: string[] };
  }
  const ucum: { UcumLhcUtils: { getInstance(): UcumLhcUtils } };
  export default ucum;
}
