// bench_ort.js MODEL.onnx SHAPE INFER1_CALLS INFER256_CALLS: ONNX Runtime
// (onnxruntime-node, from NODE_PATH) running a nerve export at batch 1 and
// 256 on 2 intra-op threads, as bench_train.c times nerve (a warm-up of a
// 40th of the calls first). Prints "onnxruntime infer1_samples_per_s=...
// infer256_samples_per_s=...". Inputs are random pixels 0..255 (the export
// normalises them itself).
const ort = require('onnxruntime-node');

async function rate(session, dims, batch, calls) {
  const size = dims.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: batch * size }, () => Math.random() * 255);
  const feeds = { input: new ort.Tensor('float32', data, [batch, ...dims]) };
  const warmup = Math.max(1, Math.floor(calls / 40));
  for (let i = 0; i < warmup; i++) await session.run(feeds);
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await session.run(feeds);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return (calls * batch) / seconds;
}

(async () => {
  const [model, shape, calls1, calls256] = process.argv.slice(2);
  const dims = shape.split('x').map(Number);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 2, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const r1 = await rate(session, dims, 1, Number(calls1));
  const r256 = await rate(session, dims, 256, Number(calls256));
  console.log(`onnxruntime infer1_samples_per_s=${r1.toFixed(1)} ` +
              `infer256_samples_per_s=${r256.toFixed(1)}`);
})().catch((e) => { console.error(String(e)); process.exit(1); });
