// The web bundle in a real browser: Debian's chromium driven by playwright-core opens each bundle
// (served by python3 -m http.server), generates through the page's controls, and compares what
// the page drew (its canvases' pixels) and computed (its float output) with `ganforge sample`
// (WORK/NAME/sample_*.idx) and LibTorch's float images (WORK/NAME/ref_*/image.f32, from
// tests/onnx/reference.cpp). Also: no request leaves the bundle, Random and bad input work, and the
// time per image in the browser is measured and printed.
// Usage: node web_test.mjs URL WORK NAME...   (URL/NAME/ is a bundle; WORK/NAME its references)
import { launchChromium } from "./launch.mjs";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";

const FLOAT_TOLERANCE = 1e-4;  // per value, as tests/onnx requires of ONNX Runtime
const PIXEL_TOLERANCE = 1;     // 8-bit levels: a float on a rounding boundary may go either way
const [url, work, ...names] = process.argv.slice(2);

function idxData(file) {
  const b = fs.readFileSync(file);
  assert.equal(b[2], 8, `${file}: not an unsigned-byte idx`);
  return b.subarray(4 + 4 * b[3]);
}

function floats(file) {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

const browser = await launchChromium();

// Generates through the controls and returns the page's pixels (channels last, as sample's .idx
// stores them) and float output.
async function generateInPage(page, seed, n, cls) {
  await page.fill("#seed", String(seed));
  await page.fill("#n", String(n));
  if (cls !== null) await page.selectOption("#cls", String(cls));
  await page.evaluate(() => { window.ganforge.last = null; });
  await page.click("#generate");
  await page.waitForFunction(() => window.ganforge.last !== null);
  return page.evaluate(() => {
    const last = window.ganforge.last;
    const [, c, h, w] = last.dims;
    const pixels = [];
    for (const canvas of document.querySelectorAll("#grid canvas")) {
      const rgba = canvas.getContext("2d").getImageData(0, 0, w, h).data;
      for (let p = 0; p < h * w; p++) {
        for (let ch = 0; ch < c; ch++) pixels.push(rgba[4 * p + ch]);
      }
    }
    return { seed: String(last.seed), pixels, image: Array.from(last.image), dims: last.dims.map(Number),
             status: document.getElementById("status").textContent };
  });
}

function compare(label, got, samplePixels, refImage) {
  assert.equal(got.pixels.length, samplePixels.length, `${label}: pixel count`);
  let differ = 0, maxPixel = 0;
  for (let i = 0; i < samplePixels.length; i++) {
    const d = Math.abs(got.pixels[i] - samplePixels[i]);
    if (d) differ++;
    maxPixel = Math.max(maxPixel, d);
  }
  let maxFloat = null;
  if (refImage) {
    assert.equal(got.image.length, refImage.length, `${label}: float count`);
    maxFloat = 0;
    for (let i = 0; i < refImage.length; i++) {
      maxFloat = Math.max(maxFloat, Math.abs(got.image[i] - refImage[i]));
    }
  }
  console.log(`  ${label}: ${differ} of ${samplePixels.length} pixels differ from sample's ` +
              `(max ${maxPixel} level)` +
              (maxFloat === null ? "" : `, max abs float difference ${maxFloat.toExponential(1)}`));
  assert.ok(maxPixel <= PIXEL_TOLERANCE, `${label}: a pixel differs by ${maxPixel} levels`);
  if (maxFloat !== null) {
    assert.ok(maxFloat <= FLOAT_TOLERANCE, `${label}: float difference ${maxFloat}`);
  }
  return { differ, total: samplePixels.length, maxFloat };
}

// Milliseconds per image in the browser (latents and network) at batch n, over `repeats`
// generations after a warm-up; timed as a whole, since performance.now() is coarse (0.1 ms) on a
// page without cross-origin isolation.
async function timePerImage(page, n, repeats) {
  return page.evaluate(async ([n, repeats]) => {
    await window.ganforge.generate(0n, n, "all");
    const t0 = performance.now();
    for (let r = 0; r < repeats; r++) await window.ganforge.generate(BigInt(r), n, "all");
    return (performance.now() - t0) / (repeats * n);
  }, [n, repeats]);
}

const summary = [];
try {
  for (const name of names) {
    const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    const problems = [];
    page.on("pageerror", (e) => problems.push(`page error: ${e}`));
    page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
    page.on("response", (r) => { if (r.status() >= 400) problems.push(`${r.status()}: ${r.url()}`); });
    // The bundle must need nothing but its own folder.
    const base = new URL(`${name}/`, url).href;
    await page.route("**/*", (route) => {
      const u = route.request().url();
      if (u.startsWith(base) || u.startsWith("data:") || u.startsWith("blob:")) return route.continue();
      problems.push(`request outside the bundle: ${u}`);
      return route.abort();
    });
    await page.goto(base);
    await page.waitForFunction(() => window.ganforge && window.ganforge.last, null, { timeout: 60000 });
    const model = await page.evaluate(() => window.ganforge.model);
    const spec = model.model_spec;
    const conditional = spec.conditional !== "none";
    console.log(`${name}: ${spec.arch}, ${spec.latent} latents, ${spec.out_shape.join("x")}` +
                (conditional ? `, ${spec.num_classes} classes` : ""));
    assert.equal(await page.isVisible("#cls"), conditional, "class control shown iff conditional");
    if (conditional) {
      const options = await page.$$eval("#cls option", (os) => os.map((o) => o.textContent));
      assert.equal(options.length, spec.num_classes + 1);
      spec.class_names.forEach((c, k) => assert.equal(options[k + 1], c, "class names"));
    }

    const dir = path.join(work, name);
    let differ = 0, total = 0, maxFloat = 0;
    for (const seed of fs.readFileSync(path.join(dir, "seeds.txt"), "utf8").trim().split(/\s+/)) {
      const n = 8;
      const got = await generateInPage(page, seed, n, conditional ? "all" : null);
      assert.equal(got.seed, seed);
      assert.match(got.status, new RegExp(`^Seed ${seed}: ${n} images in`));
      const r = compare(`seed ${seed}`, got, idxData(path.join(dir, `sample_${seed}.idx`)),
                        floats(path.join(dir, `ref_${seed}`, "image.f32")));
      differ += r.differ; total += r.total; maxFloat = Math.max(maxFloat, r.maxFloat);
    }
    if (conditional) {
      const got = await generateInPage(page, 42, 8, 1);
      const r = compare("seed 42, class 1 for all", got, idxData(path.join(dir, "sample_42_class1.idx")), null);
      differ += r.differ; total += r.total;
      await page.selectOption("#cls", "all");
    }

    // Random: a new seed in the field, and its images.
    const before = await page.inputValue("#seed");
    await page.evaluate(() => { window.ganforge.last = null; });
    await page.click("#random");
    await page.waitForFunction(() => window.ganforge.last !== null);
    const drawn = await page.evaluate(() => String(window.ganforge.last.seed));
    assert.notEqual(drawn, before, "Random kept the seed");
    assert.equal(await page.inputValue("#seed"), drawn);

    // Bad input: a message, no generation.
    await page.fill("#seed", "twelve");
    await page.click("#generate");
    assert.match(await page.textContent("#status"), /seed must be a whole number/);
    assert.equal(await page.getAttribute("#status", "class"), "error");
    await page.fill("#seed", "0");
    await page.fill("#n", "65");
    await page.click("#generate");
    assert.match(await page.textContent("#status"), /number of images must be 1 to 64/);

    const one = await timePerImage(page, 1, 50);
    const sixteen = await timePerImage(page, 16, 10);
    console.log(`  browser time per image (latents and network): ${one.toFixed(2)} ms at batch 1, ` +
                `${sixteen.toFixed(2)} ms at batch 16`);
    if (name === names[0]) {
      await page.fill("#seed", "7");
      await page.fill("#n", "16");
      await page.click("#generate");
      await page.screenshot({ path: path.join(work, "web.png") });
    }
    assert.deepEqual(problems, [], problems.join("\n"));
    summary.push(`${name}: ${differ} of ${total} pixels differ by one level, ` +
                 `max float difference ${maxFloat.toExponential(1)}, ` +
                 `${one.toFixed(2)} ms/image (batch 1), ${sixteen.toFixed(2)} ms/image (batch 16)`);
    await page.close();
  }
} finally {
  await browser.close();
}
console.log(summary.join("\n"));
console.log("web_test: OK");
