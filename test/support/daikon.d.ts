// daikon ships no types; the tests use it only as an independent decoder of real vendor CT pixels.
declare module 'daikon' {
  interface DaikonImage {
    getRows(): number;
    getCols(): number;
    getPixelSpacing(): number[];
    /** Pixel values after rescale slope/intercept (decompressed when needed). */
    getInterpretedData(): Float32Array | number[];
  }
  const daikon: { Series: { parseImage(data: DataView): DaikonImage | null } };
  export default daikon;
}
