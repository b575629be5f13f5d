// dcmjs ships no types: what the imaging layer and the synthetic-data builders use of it, strictly.
// Datasets cross this boundary as plain records; callers validate what they read (zod).
declare module 'dcmjs' {
  interface DicomDict {
    meta: Record<string, unknown>;
    dict: Record<string, unknown>;
  }
  const dcmjs: {
    data: {
      /** Part 10 bytes of a naturalized dataset (with `_meta`). */
      datasetToBuffer(dataset: Record<string, unknown>): Buffer;
      DicomMessage: {
        /** Parses Part 10 bytes into DICOM JSON-model dictionaries (tag → { vr, Value }). */
        readFile(buffer: ArrayBuffer, options?: { ignoreErrors?: boolean; untilTag?: string; includeUntilTagValue?: boolean }): DicomDict;
      };
      DicomMetaDictionary: {
        /** DICOM JSON model (tag keys) → keyword-keyed ("naturalized") dataset. */
        naturalizeDataset(dataset: Record<string, unknown>): Record<string, unknown>;
        denaturalizeDataset(dataset: Record<string, unknown>): Record<string, unknown>;
      };
    };
    log: {
      setLevel(level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent'): void;
      /** loglevel child loggers (e.g. 'validation.dcmjs') keep the level they had when created. */
      getLogger(name: string): { setLevel(level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent'): void };
    };
  };
  export default dcmjs;
}
