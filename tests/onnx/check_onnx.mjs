// Runs exported generators in ONNX Runtime (npm onnxruntime-node, CPU) on the latents and labels
// `ganforge sample` uses, and compares with LibTorch's float images (tests/onnx/reference.cpp):
// max abs difference per pixel <= 1e-4 at batch 5 and 1 (dynamic batch) and 5 (fixed batch).
// Also: the reference is what `ganforge sample` wrote (its .idx pixels, byte for byte), a fixed
// batch model refuses another batch size, and --no-ema's model matches the raw generator.
// Usage (from the directory holding node_modules): node check_onnx.mjs WORK CASE...
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const ort = createRequire(import.meta.url)("onnxruntime-node");
const TOLERANCE = 1e-4;
const [work, ...cases] = process.argv.slice(2);

function typed(Type, file) {
  const b = fs.readFileSync(file);
  return new Type(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

function reference(dir) {
  const meta = JSON.parse(fs.readFileSync(path.join(dir, "meta.json"), "utf8"));
  return {
    meta,
    z: typed(Float32Array, path.join(dir, "z.f32")),
    label: meta.conditional ? typed(BigInt64Array, path.join(dir, "label.i64")) : null,
    image: typed(Float32Array, path.join(dir, "image.f32")),
  };
}

// idx data after its header (magic 0 0 8 ndims, then ndims big-endian uint32 sizes).
function idxData(file) {
  const b = fs.readFileSync(file);
  if (b[0] !== 0 || b[1] !== 0 || b[2] !== 8) throw new Error(`${file}: not an unsigned-byte idx`);
  return b.subarray(4 + 4 * b[3]);
}

function maxAbsDiff(a, b) {
  if (a.length !== b.length) throw new Error(`size ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; ++i) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

// ganforge's float-to-pixel map (unit_to_pixels: float32 arithmetic, round half to even).
function pixel(x) {
  const v = Math.fround(Math.fround(x + 1) * 127.5);
  let r = Math.round(v);
  if (r - v === 0.5 && r % 2 !== 0) r -= 1;
  return Math.min(255, Math.max(0, r));
}

function pixelsOff(a, b) {
  let off = 0;
  for (let i = 0; i < a.length; ++i) off += pixel(a[i]) !== pixel(b[i]);
  return off;
}

async function open(file) {
  return ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1 });
}

// Images first..first+n-1 of the reference through `session`; returns the max abs difference
// (and counts the 8-bit pixels that differ in `off`, when given).
async function compare(session, ref, first, n, off) {
  const zd = ref.meta.z_dim, per = ref.image.length / ref.meta.n;
  const feeds = { z: new ort.Tensor("float32", ref.z.slice(first * zd, (first + n) * zd), [n, zd]) };
  if (ref.label) feeds.label = new ort.Tensor("int64", ref.label.slice(first, first + n), [n]);
  const { image } = await session.run(feeds);
  const want = [n, ...ref.meta.shape.slice(1)];
  if (JSON.stringify(image.dims) !== JSON.stringify(want)) {
    throw new Error(`output dims ${image.dims}, expected ${want}`);
  }
  const expected = ref.image.subarray(first * per, (first + n) * per);
  if (off) {
    off.pixels += pixelsOff(image.data, expected);
    off.of += expected.length;
  }
  return maxAbsDiff(image.data, expected);
}

let failed = false;
const check = (ok, what) => {
  if (!ok) {
    console.error(`FAIL: ${what}`);
    failed = true;
  }
};
const summary = {};
for (const name of cases) {
  const dir = path.join(work, name);
  const ref = reference(path.join(dir, "ref"));
  check(Buffer.compare(idxData(path.join(dir, "sample.idx")), fs.readFileSync(path.join(dir, "ref", "pixels.u8"))) === 0,
        `${name}: the reference images are not what ganforge sample wrote`);
  // pixel() is ganforge's map: the reference's floats give sample's pixels (channels last there).
  const [n, c, h, w] = ref.meta.shape;
  const written = fs.readFileSync(path.join(dir, "ref", "pixels.u8"));
  let mapped = 0;
  for (let i = 0; i < ref.image.length; ++i) {
    const [b, ch, y, x] = [Math.floor(i / (c * h * w)), Math.floor(i / (h * w)) % c, Math.floor(i / w) % h, i % w];
    mapped += pixel(ref.image[i]) === written[((b * h + y) * w + x) * c + ch];
  }
  check(mapped === n * c * h * w, `${name}: pixel() differs from ganforge's unit_to_pixels`);
  const dynamic = await open(path.join(dir, "dynamic.onnx"));
  const inputs = ref.meta.conditional ? ["z", "label"] : ["z"];
  check(JSON.stringify(dynamic.inputNames) === JSON.stringify(inputs) &&
        JSON.stringify(dynamic.outputNames) === JSON.stringify(["image"]),
        `${name}: inputs ${dynamic.inputNames}, outputs ${dynamic.outputNames}`);
  const off = { pixels: 0, of: 0 };
  const r = {
    batch5: await compare(dynamic, ref, 0, 5, off),
    batch1: Math.max(await compare(dynamic, ref, 0, 1), await compare(dynamic, ref, 3, 1)),
    fixed5: await compare(await open(path.join(dir, "fixed5.onnx")), ref, 0, 5),
  };
  let refused = false;
  try {
    await compare(await open(path.join(dir, "fixed5.onnx")), ref, 0, 1);
  } catch {
    refused = true;
  }
  check(refused, `${name}: the fixed-batch model accepted a batch of 1`);
  if (fs.existsSync(path.join(dir, "raw.onnx"))) {
    const raw = reference(path.join(dir, "ref_raw"));
    r.no_ema = await compare(await open(path.join(dir, "raw.onnx")), raw, 0, 5);
    check(maxAbsDiff(raw.image, ref.image) > 1e-3, `${name}: the raw and EMA generators agree`);
  }
  for (const [k, v] of Object.entries(r)) {
    check(v <= TOLERANCE, `${name} ${k}: max abs difference ${v} > ${TOLERANCE}`);
  }
  summary[name] = Math.max(...Object.values(r));
  console.log(JSON.stringify({ model: name, max_abs_diff: r, pixels_off: `${off.pixels}/${off.of}` }));
}
console.log(JSON.stringify({ onnxruntime: ort.env.versions.node, tolerance: TOLERANCE, max_abs_diff: summary }));
process.exit(failed ? 1 : 0);
