// ONNX Runtime's generation rate for bench/onnx_bench.py: images/s of an exported generator
// (npm onnxruntime-node, CPU, one thread as ganforge's own figures) at each batch size, timed for
// at least 2 s after one warm-up run. Prints one JSON object.
// Usage (from the directory holding node_modules): node onnx_bench.mjs G.onnx Z_DIM CLASSES BATCH...
import { createRequire } from "node:module";
import path from "node:path";

// Resolved from the working directory: the script stays in bench/, the package in the build tree.
const ort = createRequire(path.join(process.cwd(), "bench.js"))("onnxruntime-node");
const [file, zDim, classes, ...batches] = process.argv.slice(2);
const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1 });
const out = { onnxruntime: ort.env.versions.node };
for (const batch of batches.map(Number)) {
  const z = Float32Array.from({ length: batch * zDim }, () => Math.random() * 2 - 1);
  const feeds = { z: new ort.Tensor("float32", z, [batch, Number(zDim)]) };
  if (Number(classes) > 0) {
    const labels = BigInt64Array.from({ length: batch }, (_, i) => BigInt(i % Number(classes)));
    feeds.label = new ort.Tensor("int64", labels, [batch]);
  }
  await session.run(feeds);
  let images = 0;
  const start = performance.now();
  while (performance.now() - start < 2000 || images < 2 * batch) {
    await session.run(feeds);
    images += batch;
  }
  out[`images_per_s_batch${batch}`] = (images * 1000) / (performance.now() - start);
}
console.log(JSON.stringify(out));
