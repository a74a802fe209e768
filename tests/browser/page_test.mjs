// The web page in a real browser: Debian's chromium driven by playwright-core. Loads the page
// from a running `ganforge serve`, generates, checks the images and the requests the controls
// make, opens an image's details, runs latent and class walks, paints a mask over a sample and
// repairs it, walks from the repair, and saves a screenshot.
// Usage: node page_test.mjs URL OUT_DIR
import { launchChromium } from "./launch.mjs";
import assert from "node:assert/strict";

const [url, outDir] = process.argv.slice(2);
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
  const problems = [];
  page.on("pageerror", (e) => problems.push("page error: " + e));
  page.on("console", (m) => { if (m.type() === "error") problems.push("console: " + m.text()); });
  // The page must need nothing but the server: any other request fails the test.
  const origin = new URL(url).origin;
  await page.route("**/*", (route) => {
    const u = route.request().url();
    if (u.startsWith(origin) || u.startsWith("data:")) return route.continue();
    problems.push("external request: " + u);
    return route.abort();
  });
  const generateBodies = [], repairBodies = [];
  page.on("request", (r) => {
    if (r.url().endsWith("/v1/generate")) generateBodies.push(JSON.parse(r.postData()));
    if (r.url().endsWith("/v1/repair")) repairBodies.push(JSON.parse(r.postData()));
  });

  await page.goto(url);
  await page.waitForFunction(() => document.querySelectorAll("#model option").length >= 2);
  const names = await page.$$eval("#model option", (os) => os.map((o) => o.value));
  assert.deepEqual(names, ["digits", "plain"]);

  // The unconditional model has no class control.
  await page.selectOption("#model", "plain");
  assert.equal(await page.isVisible("#cls"), false, "class control shown for an unconditional model");

  // The conditional model: every class in turn by default.
  await page.selectOption("#model", "digits");
  assert.equal(await page.isVisible("#cls"), true, "no class control for a conditional model");
  assert.equal(await page.$$eval("#cls option", (os) => os.length), 11);
  await page.fill("#seed", "42");
  await page.fill("#n", "20");
  const imagesReady = (n) => page.waitForFunction((n) => {
    const imgs = [...document.querySelectorAll("#grid img")];
    return imgs.length === n && imgs.every((i) => i.complete && i.naturalWidth > 0);
  }, n);
  await page.click("#generate");
  await imagesReady(20);
  const sizes = await page.$$eval("#grid img", (is) => is.map((i) => [i.naturalWidth, i.naturalHeight]));
  for (const s of sizes) assert.deepEqual(s, [28, 28], "an image is not 28x28");
  assert.equal(generateBodies.length, 1);
  assert.equal(generateBodies[0].model, "digits");
  assert.equal(generateBodies[0].seed, 42);
  assert.equal(generateBodies[0].n, 20);
  assert.equal(generateBodies[0].labels, undefined, "default request should cycle classes");
  const firstAll = await page.$eval("#grid img", (i) => i.src);

  // Choosing class 3 changes the request and the images.
  await page.selectOption("#cls", "3");
  await page.fill("#n", "16");
  await page.click("#generate");
  await imagesReady(16);
  assert.equal(generateBodies.length, 2);
  assert.deepEqual(generateBodies[1].labels, [3], "the class control did not reach the request");
  const firstThree = await page.$eval("#grid img", (i) => i.src);
  assert.notEqual(firstThree, firstAll, "class 3 gave the same first image as class 0");

  // Clicking an image shows its seed and offers it for download.
  await page.click("#grid img >> nth=5");
  const detail = await page.textContent("#detail");
  assert.match(detail, /seed 42 · image 5 · class 3/);
  const href = await page.getAttribute("#download", "href");
  assert.ok(href.startsWith("data:image/png;base64,"), "download link is not the PNG");
  assert.equal(await page.getAttribute("#download", "download"), "digits_seed42_5.png");

  // The random button picks another seed; truncation is sent.
  await page.click("#random");
  const seed = Number(await page.inputValue("#seed"));
  assert.ok(Number.isInteger(seed) && seed >= 0);
  await page.fill("#trunc", "0.5");
  await page.click("#generate");
  await page.waitForFunction((s) => document.getElementById("status").textContent
      .includes(`seed ${s},`), seed);
  await imagesReady(16);
  assert.equal(generateBodies[2].truncation, 0.5);
  assert.equal(generateBodies[2].seed, seed);

  // A latent walk animates frames between the two seeds.
  await page.fill("#seed", "42");
  await page.fill("#seed2", "7");
  await page.click("#walkbtn");
  await page.waitForFunction(() => document.getElementById("walkframe").src.startsWith("data:"));
  const walk = generateBodies[generateBodies.length - 1];
  assert.deepEqual(walk.walk_to, { seed: 7 });
  const frame1 = await page.getAttribute("#walkframe", "src");
  await page.waitForTimeout(300);
  const frame2 = await page.getAttribute("#walkframe", "src");
  assert.notEqual(frame1, frame2, "the walk does not animate");

  // A walk that also changes class: from class 3 (the class control) to class 8.
  await page.selectOption("#cls2", "8");
  await page.click("#walkbtn");
  await page.waitForFunction((n) => document.getElementById("walkinfo").textContent
      .includes("class 8"), 0);
  assert.deepEqual(generateBodies[generateBodies.length - 1].walk_to, { seed: 7, label: 8 });
  assert.deepEqual(generateBodies[generateBodies.length - 1].labels, [3]);

  // Repair: take a sample, paint over its middle with the mouse, and repair it.
  await page.click("#grid img >> nth=2");
  await page.click("#usesel");
  const box = await page.$eval("#paint", (c) => { const r = c.getBoundingClientRect();
    return { x: r.left, y: r.top, w: r.width, h: r.height }; });
  await page.mouse.move(box.x + box.w * 0.35, box.y + box.h * 0.4);
  await page.mouse.down();
  for (let i = 0; i <= 10; i++)
    await page.mouse.move(box.x + box.w * (0.35 + 0.03 * i), box.y + box.h * (0.4 + 0.02 * i));
  await page.mouse.up();
  const painted = await page.$eval("#paint", (c) => {
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let red = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] > 150 && d[i + 1] < 100) red++;
    return red;
  });
  assert.ok(painted > 500, `the mask was not painted (${painted} red pixels)`);
  await page.click("#repairbtn");
  await page.waitForFunction(() => {
    const i = document.getElementById("repaired");
    return i.src.startsWith("data:image/png") && i.complete && i.naturalWidth === 28;
  });
  assert.equal(repairBodies.length, 1);
  assert.ok(repairBodies[0].image.startsWith("data:image/png;base64,"));
  assert.ok(repairBodies[0].mask.startsWith("data:image/png;base64,"));
  assert.equal(repairBodies[0].label, 3);
  assert.match(await page.textContent("#repairinfo"), /class 3 · loss \d/);
  // The repaired image differs from the sample only where the mask was painted.
  const diff = await page.evaluate(async () => {
    const load = (src) => new Promise((ok) => { const i = new Image(); i.onload = () => ok(i); i.src = src; });
    const pixels = (img) => { const c = document.createElement("canvas"); c.width = 28; c.height = 28;
      const x = c.getContext("2d"); x.drawImage(img, 0, 0); return x.getImageData(0, 0, 28, 28).data; };
    const a = pixels(await load(document.querySelector("#grid img.selected").src));
    const b = pixels(document.getElementById("repaired"));
    let changed = 0;
    for (let i = 0; i < a.length; i += 4) if (a[i] !== b[i]) changed++;
    return changed;
  });
  assert.ok(diff <= 28 * 28 / 2, `the repair changed ${diff} pixels, more than the painted part`);
  // A walk from the repaired image's latent.
  await page.click("#walkfrom");
  await page.waitForFunction(() => document.getElementById("walkinfo").textContent
      .startsWith("the repaired image"));
  const fromRepair = generateBodies[generateBodies.length - 1];
  assert.equal(fromRepair.latent.length, 100, "the walk did not start from the repair's latent");
  assert.deepEqual(fromRepair.labels, [3]);

  // Keep that repair as a walk target; nothing painted, Repair projects the picture (the
  // generator's closest image); the walk then runs between the two pictures' latents.
  await page.click("#keeptarget");
  await page.click("#clearmask");
  await page.click("#repairbtn");
  await page.waitForFunction(() => document.getElementById("repairinfo").textContent
      .startsWith("projection"));
  assert.equal(repairBodies.length, 2);
  await page.click("#walkfrom");
  await page.waitForFunction(() => document.getElementById("walkinfo").textContent
      .includes("→ the kept picture"));
  const between = generateBodies[generateBodies.length - 1];
  assert.equal(between.walk_to.latent.length, 100, "the walk does not end at the kept latent");
  assert.equal(between.latent.length, 100);

  await page.screenshot({ path: `${outDir}/page.png`, fullPage: true });
  assert.deepEqual(problems, []);
  console.log(`browser: page checks passed; screenshot ${outDir}/page.png`);
} finally {
  await browser.close();
}
