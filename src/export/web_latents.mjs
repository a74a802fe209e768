// ganforge's latents in JavaScript, bit for bit: image `index` of `seed` gets the latent that
// `ganforge sample` draws (src/models/sampler.cpp, seeded_latents): a fresh LibTorch CPU generator
// seeded with mix(seed, index) (src/core/rng.h), then torch.rand or torch.randn of [1, z_dim]
// float32 from it. This file reproduces LibTorch 1.13's code paths for that:
//  - at::mt19937 (ATen/core/MT19937RNGEngine.h), seeded with the seed's low 32 bits;
//  - uniform_real_distribution<float>: the low 24 bits of a 32-bit draw times 2^-24;
//  - normal_fill_AVX2 (ATen/native/cpu/DistributionTemplates.h): all z_dim uniforms first, then
//    Box-Muller on blocks of 16 (u1 = 1 - data[j], u2 = data[j + 8]), the last 16 drawn again
//    when z_dim is not a multiple of 16, with avx_mathfun.h's log256_ps and sincos256_ps in float32,
//    including the multiply-adds that GCC fused in Debian's libtorch 1.13 build (read from its
//    machine code; each `fma` below is one vfmadd there).
// LibTorch uses that kernel on every CPU with AVX2. Elsewhere (no AVX2, or
// ATEN_CPU_CAPABILITY=default) it computes the normal latents with glibc's logf/sinf/cosf, which
// differ from these in the last bit now and then. tests/web/check_latents.mjs compares this file
// with LibTorch for thousands of seeds. Normal latents need z_dim >= 16 (smaller ones take
// another LibTorch path; the exporter refuses them).

const f = Math.fround;
const U64 = (x) => BigInt.asUintN(64, x);

// SplitMix64 finaliser over (a, b), as gf::mix.
export function mix(a, b) {
  let z = U64(U64(a * 0x9e3779b97f4a7c15n) + b + 0x632be59bd9b4e019n);
  z = U64((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
  z = U64((z ^ (z >> 27n)) * 0x94d049bb133111ebn);
  return z ^ (z >> 31n);
}

// The Mersenne Twister (Matsumoto & Nishimura 1998), as at::mt19937.
class MT19937 {
  constructor(seed) {
    const s = new Uint32Array(624);
    s[0] = seed >>> 0;
    for (let j = 1; j < 624; j++) {
      s[j] = (Math.imul(1812433253, s[j - 1] ^ (s[j - 1] >>> 30)) + j) >>> 0;
    }
    this.state = s;
    this.left = 1;
    this.next = 0;
  }

  twist() {
    const s = this.state;
    for (let k = 0; k < 624; k++) {
      const y = (s[k] & 0x80000000) | (s[(k + 1) % 624] & 0x7fffffff);
      s[k] = s[(k + 397) % 624] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    this.left = 624;
    this.next = 0;
  }

  u32() {
    if (--this.left === 0) this.twist();
    let y = this.state[this.next++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  // uniform_real_distribution<float>(0, 1): exact in float32.
  uniform() {
    return (this.u32() & 0xffffff) * 5.9604644775390625e-8;
  }
}

const view = new DataView(new ArrayBuffer(4));
const bitsOf = (x) => (view.setFloat32(0, x), view.getUint32(0));
const fromBits = (b) => (view.setUint32(0, b >>> 0), view.getFloat32(0));

// fma(a, b, c) in float32, rounded once: a * b is exact in float64 (two 24-bit significands), and
// the float64 sum s plus its exact error t (TwoSum, Knuth) decide the one case where rounding s
// again would go wrong: s exactly halfway between two floats while t is not zero.
function fma(a, b, c) {
  const p = a * b;
  const s = p + c;
  const bb = s - p;
  const t = p - (s - bb) + (c - bb);
  const r = f(s);
  if (t === 0 || r === s || !Number.isFinite(s)) return r;
  const b0 = bitsOf(r);
  const other = fromBits(s > r === r >= 0 ? b0 + 1 : b0 - 1);  // the float on s's other side
  if (s !== (r + other) / 2) return r;
  return t > 0 === other > r ? other : r;
}

// avx_mathfun.h's constants, as float32.
const SQRTHF = f(0.707106781186547524);
const LOG_P = [7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1,
               -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1].map(f);
const LOG_Q1 = f(-2.1219444e-4);
const LOG_Q2 = f(0.693359375);
const DP = [-0.78515625, -2.4187564849853515625e-4, -3.77489497744594108e-8].map(f);
const SIN_P = [-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1].map(f);
const COS_P = [2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2].map(f);
const FOPI = f(1.27323954473516);
const TWO_PI = f(2 * Math.PI);

// log256_ps for x in (0, 1] (Cephes' logf).
function log256(x) {
  const b = bitsOf(x);
  let e = f(f((b >>> 23) - 127) + 1);
  x = fromBits((b & ~0x7f800000) | 0x3f000000);  // the significand, in [0.5, 1)
  const small = x < SQRTHF;
  x = f(f(x - 1) + (small ? x : 0));
  if (small) e = f(e - 1);
  const z = f(x * x);
  let y = LOG_P[0];
  for (let k = 1; k < LOG_P.length; k++) y = fma(y, x, LOG_P[k]);
  y = fma(f(y * x), z, f(e * LOG_Q1));
  y = fma(z, -0.5, y);
  return fma(e, LOG_Q2, f(x + y));
}

// sincos256_ps for x >= 0 (Cephes' sinf and cosf): [sin x, cos x].
function sincos256(x) {
  const j = (Math.trunc(f(x * FOPI)) + 1) & ~1;  // the octant, rounded up to even
  for (const d of DP) x = fma(j, d, x);            // x - j * pi/4 in three parts
  const z = f(x * x);
  let c = fma(fma(COS_P[0], z, COS_P[1]), z, COS_P[2]);
  c = f(fma(f(c * z), z, -f(z * 0.5)) + 1);
  let s = fma(fma(SIN_P[0], z, SIN_P[1]), z, SIN_P[2]);
  s = fma(f(s * z), x, x);
  const swap = (j & 2) !== 0;
  let sin = swap ? c : s;
  let cos = swap ? s : c;
  if (j & 4) sin = -sin;
  if (~(j - 2) & 4) cos = -cos;
  return [sin, cos];
}

// Box-Muller on data[o .. o+16): normal_fill_16_AVX2 with mean 0 and std 1.
function normal16(data, o) {
  for (let j = 0; j < 8; j++) {
    const radius = f(Math.sqrt(f(-2 * log256(f(1 - data[o + j])))));
    const [sin, cos] = sincos256(f(TWO_PI * data[o + j + 8]));
    data[o + j] = f(radius * cos);
    data[o + j + 8] = f(radius * sin);
  }
}

function oneLatent(out, zDim, normal, rng) {
  for (let i = 0; i < zDim; i++) out[i] = rng.uniform();
  if (!normal) {
    for (let i = 0; i < zDim; i++) out[i] = out[i] * 2 - 1;  // exact in float32
    return;
  }
  for (let i = 0; i + 16 <= zDim; i += 16) normal16(out, i);
  if (zDim % 16 !== 0) {
    for (let i = zDim - 16; i < zDim; i++) out[i] = rng.uniform();
    normal16(out, zDim - 16);
  }
}

// The largest seed `ganforge sample --seed` takes.
export const MAX_SEED = 2n ** 63n - 1n;

// Latents of images start .. start+n-1 of `seed` (a BigInt, number or decimal string) for a
// model with `zDim` inputs and prior `latent` ("normal" or "uniform"): Float32Array [n * zDim].
export function seededLatents(zDim, latent, seed, start, n) {
  const s = BigInt(seed);
  if (s < 0n || s > MAX_SEED) throw new RangeError(`seed must be 0 to ${MAX_SEED}`);
  const normal = latent === "normal";
  if (!normal && latent !== "uniform") throw new RangeError(`unknown latent prior '${latent}'`);
  if (normal && zDim < 16) throw new RangeError("normal latents need z_dim >= 16");
  const z = new Float32Array(n * zDim);
  for (let i = 0; i < n; i++) {
    const rng = new MT19937(Number(mix(s, BigInt(start + i)) & 0xffffffffn));
    oneLatent(z.subarray(i * zDim, (i + 1) * zDim), zDim, normal, rng);
  }
  return z;
}
