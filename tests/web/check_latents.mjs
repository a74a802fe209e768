// The web bundle's latents.mjs against LibTorch, bit for bit: for each prior and latent size, the
// latents of images 0..INDICES-1 of many seeds (small, consecutive, and near 2^32 and 2^63, where
// the 64-bit seed mixing matters), as tests/web/latents.cpp draws them with ganforge's sampler.
// Usage: node check_latents.mjs LATENTS_MJS LATENTS_TOOL WORK_DIR
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [latentsMjs, tool, work] = process.argv.slice(2);
const { seededLatents } = await import(pathToFileURL(path.resolve(latentsMjs)).href);

const BIG = "4294967295-4294967297,1234567890123,9223372036854775806-9223372036854775807";
// prior, z_dim, indices per seed, seeds (as ganforge_web_latents reads them)
const CASES = [
  ["normal", 100, 4, `0-1999,${BIG}`],  // 6 blocks of 16, then the last 16 drawn again
  ["normal", 128, 2, `0-499,${BIG}`],   // blocks of 16 only
  ["normal", 16, 2, "0-499"],
  ["normal", 20, 2, "0-499"],
  ["normal", 64, 2, "0-499"],
  ["uniform", 100, 4, `0-999,${BIG}`],
  ["uniform", 2, 2, "0-99"],
];

function expand(seeds) {
  const out = [];
  for (const item of seeds.split(",")) {
    const [from, to = from] = item.split("-").map(BigInt);
    for (let s = from; s <= to; s++) out.push(s);
  }
  return out;
}

fs.mkdirSync(work, { recursive: true });
let total = 0;
for (const [prior, zDim, indices, seeds] of CASES) {
  const file = path.join(work, `${prior}_${zDim}.f32`);
  execFileSync(tool, [prior, String(zDim), String(indices), seeds, file]);
  const b = fs.readFileSync(file);
  const ref = new Float32Array(b.buffer, b.byteOffset, b.length / 4);
  const list = expand(seeds);
  if (ref.length !== list.length * indices * zDim) throw new Error(`${file}: wrong size`);
  let differ = 0, first = "";
  list.forEach((seed, k) => {
    const z = seededLatents(zDim, prior, seed, 0, indices);
    for (let i = 0; i < z.length; i++) {
      const r = ref[k * z.length + i];
      if (Object.is(r, z[i])) continue;  // the same float32, -0 and 0 told apart
      if (!differ) first = `seed ${seed}, image ${Math.floor(i / zDim)}, component ${i % zDim}: ${z[i]} vs ${r}`;
      differ++;
    }
  });
  total += ref.length;
  console.log(`latents ${prior} z_dim ${zDim}: ${list.length} seeds x ${indices} images, ` +
              `${differ} of ${ref.length} values differ from LibTorch`);
  if (differ) throw new Error(`latents.mjs differs from LibTorch (${prior}, ${zDim}): first at ${first}`);
}
console.log(`check_latents: OK (${total} values, all bit-identical)`);
