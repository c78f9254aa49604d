// ort_compare.js LIST: for each line of LIST,
//   NAME MODEL.onnx INPUTS.csv SHAPE PREDICTIONS.json TOLERANCE BYTES PARAMS4
// runs MODEL in ONNX Runtime (onnxruntime-node, from NODE_PATH) on the CSV
// samples (SHAPE: one sample's dimensions, "1x28x28") and compares its
// output with what `nerve predict --json` printed for the same samples.
// Prints a table row per model (the largest absolute difference, the file's
// bytes and 4 x parameters: docs/onnx.md); exits 1 if any is above its
// TOLERANCE. One process for every model: node and the runtime load once.
const fs = require('fs');
const ort = require('onnxruntime-node');

function flatten(v, out) {
  if (Array.isArray(v)) v.forEach((x) => flatten(x, out));
  else out.push(v === null ? NaN : v);
  return out;
}

async function compare(model, csv, shape, json) {
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
  if (!binary && expected.length !== got.length)
    throw new Error(`output has ${got.length} values, nerve predict ${expected.length}`);
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const want = binary ? expected[2 * i + 1] : expected[i];
    const d = Math.abs(got[i] - want);
    if (!(d <= worst)) worst = d; // NaN counts as the worst
  }
  return worst;
}

(async () => {
  let status = 0;
  const pad = (s, n) => String(s).padEnd(n);
  console.log(`${pad('model', 32)} ${pad('ort_max_diff', 12)} ${pad('result', 6)} ` +
              `${'bytes'.padStart(10)} ${'4xparams'.padStart(10)}`);
  for (const line of fs.readFileSync(process.argv[2], 'utf8').trim().split('\n')) {
    const [name, model, csv, shape, json, tolerance, bytes, params4] = line.split(' ');
    let diff, result;
    try {
      const worst = await compare(model, csv, shape, json);
      diff = worst.toExponential(2);
      result = worst <= Number(tolerance) ? 'ok' : 'FAIL';
    } catch (e) {
      diff = '-';
      result = `FAIL: ${e}`;
    }
    if (result !== 'ok') status = 1;
    console.log(`${pad(name, 32)} ${pad(diff, 12)} ${pad(result, 6)} ${bytes.padStart(10)} ` +
                `${params4.padStart(10)}${result === 'ok' ? '' : ` (tolerance ${tolerance})`}`);
  }
  process.exit(status);
})().catch((e) => { console.log(String(e)); process.exit(1); });
