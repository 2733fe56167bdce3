/** Errors shared by ONNX export, reading and evaluation. `name` is set so `String(err)` says what failed. */

/** The bytes are not a loadable ONNX model (truncated upload, wrong file, bit rot...). */
export class CorruptArtifactError extends Error {
  override name = 'CorruptArtifactError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** ONNX Runtime's output for the exported graph differs from TF.js's: the export is wrong, never ship it. */
export class OnnxExportMismatchError extends Error {
  override name = 'OnnxExportMismatchError';
  constructor(message: string, readonly maxAbsDiff: number) {
    super(message);
  }
}

/** The model contains a layer (or activation) the exporter cannot express in ONNX. */
export class UnsupportedLayerError extends Error {
  override name = 'UnsupportedLayerError';
}

/** A readable ONNX file that lacks the metadata Assay writes (labels, input size). */
export class OnnxMetadataError extends Error {
  override name = 'OnnxMetadataError';
}
