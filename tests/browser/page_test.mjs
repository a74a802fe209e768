// The web page in a real browser: Debian's chromium driven by playwright-core. Loads the page
// from a running `ganforge serve`, generates, checks the images and the requests the controls
// make, opens an image's details, runs a latent walk, and saves a screenshot.
// Usage: node page_test.mjs URL OUT_DIR
import { chromium } from "playwright-core";
import assert from "node:assert/strict";

const [url, outDir] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
         "--disable-dev-shm-usage"],
});
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
  const generateBodies = [];
  page.on("request", (r) => {
    if (r.url().endsWith("/v1/generate")) generateBodies.push(JSON.parse(r.postData()));
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
  assert.equal(walk.walk_to, 7);
  const frame1 = await page.getAttribute("#walkframe", "src");
  await page.waitForTimeout(300);
  const frame2 = await page.getAttribute("#walkframe", "src");
  assert.notEqual(frame1, frame2, "the walk does not animate");

  await page.screenshot({ path: `${outDir}/page.png`, fullPage: true });
  assert.deepEqual(problems, []);
  console.log(`browser: page checks passed; screenshot ${outDir}/page.png`);
} finally {
  await browser.close();
}
