export async function resolve(specifier, context, next) {
  if (/^(sharp|onnxruntime-node|@tensorflow\/|@salesforce\/core|jsforce|@aws-sdk\/client-s3|mongodb|onnx-proto|protobufjs)/.test(specifier)) {
    process.stderr.write(`LOAD ${specifier} <- ${context.parentURL?.replace(/.*\/wt\/speed\//, '')}\n`);
  }
  return next(specifier, context);
}
