// ort_compare.js MODEL.onnx INPUTS.csv SHAPE PREDICTIONS.json TOLERANCE
// Runs MODEL in ONNX Runtime (onnxruntime-node, from NODE_PATH) on the CSV
// samples (SHAPE: one sample's dimensions, "1x28x28") and compares its
// output with what `nerve predict --json` printed for the same samples.
// Prints the largest absolute difference; exits 1 above TOLERANCE.
const fs = require('fs');
const ort = require('onnxruntime-node');

function flatten(v, out) {
  if (Array.isArray(v)) v.forEach((x) => flatten(x, out));
  else out.push(v === null ? NaN : v);
  return out;
}

(async () => {
  const [model, csv, shape, json, tolerance] = process.argv.slice(2);
  const rows = fs.readFileSync(csv, 'utf8').trim().split('\n')
    .map((line) => line.split(',').map(Number));
  const dims = [rows.length, ...shape.split('x').map(Number)];
  const input = new ort.Tensor('float32', Float32Array.from(rows.flat()), dims);
  const session = await ort.InferenceSession.create(model,
    { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const result = await session.run({ input });
  const got = result[session.outputNames[0]].data;
  const expected = [];
  for (const sample of JSON.parse(fs.readFileSync(json, 'utf8'))) {
    const values = sample.probabilities !== undefined ? sample.probabilities : sample.outputs;
    flatten(values, expected);
  }
  // a binary classifier's one output (P(class 1)) is two columns in nerve predict
  const binary = expected.length === 2 * got.length;
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const want = binary ? expected[2 * i + 1] : expected[i];
    const d = Math.abs(got[i] - want);
    if (!(d <= worst)) worst = d; // NaN counts as the worst
  }
  if (!binary && expected.length !== got.length) {
    console.log(`output has ${got.length} values, nerve predict ${expected.length}`);
    process.exit(1);
  }
  console.log(worst.toExponential(2));
  process.exit(worst <= Number(tolerance) ? 0 : 1);
})().catch((e) => { console.log(String(e)); process.exit(1); });
