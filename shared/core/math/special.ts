// Special functions needed by the DP core: erf/erfc/erfcx (W. J. Cody, "Rational Chebyshev
// approximations for the error function", Math. Comp. 1969; ACM TOMS 715 CALERF), the normal CDF
// and its log, and the normal quantile (M. J. Wichura, Algorithm AS 241, Appl. Statist. 1988).
// All are accurate to about 1e-16 relative in double precision.

const A = [3.1611237438705656, 113.864154151050156, 377.485237685302021, 3209.37758913846947, 0.185777706184603153];
const B = [23.6012909523441209, 244.024637934444173, 1282.61652607737228, 2844.23683343917062];
const C = [
  0.564188496988670089, 8.88314979438837594, 66.1191906371416295, 298.635138197400131,
  881.95222124176909, 1712.04761263407058, 2051.07837782607147, 1230.33935479799725, 2.15311535474403846e-8,
];
const D = [
  15.7449261107098347, 117.693950891312499, 537.181101862009858, 1621.38957456669019,
  3290.79923573345963, 4362.61909014324716, 3439.36767414372164, 1230.33935480374942,
];
const P = [0.305326634961232344, 0.360344899949804439, 0.125781726111229246, 0.0160837851487422766, 6.58749161529837803e-4, 0.0163153871373020978];
const Q = [2.56852019228982242, 1.87295284992346047, 0.527905102951428412, 0.0605183413124413191, 0.00233520497626869185];
const SQRPI = 0.56418958354775628695; // 1/sqrt(pi)
const THRESH = 0.46875;
const XSMALL = 1.11e-16;
const XBIG = 26.543;
const XHUGE = 6.71e7;
const XMAX = 2.53e307;
const XNEG = -26.628;

/** exp(-y^2) computed without the cancellation of exp(-(y*y)) (Cody's split). */
function expNegSquare(y: number): number {
  const ysq = Math.trunc(y * 16) / 16;
  const del = (y - ysq) * (y + ysq);
  return Math.exp(-ysq * ysq) * Math.exp(-del);
}

/** Cody's CALERF: jint 0 = erf, 1 = erfc, 2 = erfcx (exp(x^2) erfc(x)). */
function calerf(x: number, jint: 0 | 1 | 2): number {
  const y = Math.abs(x);
  let result: number;
  if (y <= THRESH) {
    const ysq = y > XSMALL ? y * y : 0;
    let xnum = A[4]! * ysq;
    let xden = ysq;
    for (let i = 0; i < 3; i++) {
      xnum = (xnum + A[i]!) * ysq;
      xden = (xden + B[i]!) * ysq;
    }
    result = (x * (xnum + A[3]!)) / (xden + B[3]!);
    if (jint !== 0) result = 1 - result;
    if (jint === 2) result = Math.exp(ysq) * result;
    return result;
  }
  if (y <= 4) {
    let xnum = C[8]! * y;
    let xden = y;
    for (let i = 0; i < 7; i++) {
      xnum = (xnum + C[i]!) * y;
      xden = (xden + D[i]!) * y;
    }
    result = (xnum + C[7]!) / (xden + D[7]!);
    if (jint !== 2) result = expNegSquare(y) * result;
  } else {
    result = 0;
    let done = false;
    if (y >= XBIG) {
      if (jint !== 2 || y >= XMAX) done = true;
      else if (y >= XHUGE) {
        result = SQRPI / y;
        done = true;
      }
    }
    if (!done) {
      const ysq = 1 / (y * y);
      let xnum = P[5]! * ysq;
      let xden = ysq;
      for (let i = 0; i < 4; i++) {
        xnum = (xnum + P[i]!) * ysq;
        xden = (xden + Q[i]!) * ysq;
      }
      result = (ysq * (xnum + P[4]!)) / (xden + Q[4]!);
      result = (SQRPI - result) / y;
      if (jint !== 2) result = expNegSquare(y) * result;
    }
  }
  if (jint === 0) {
    result = 0.5 - result + 0.5;
    if (x < 0) result = -result;
  } else if (jint === 1) {
    if (x < 0) result = 2 - result;
  } else if (x < 0) {
    if (x < XNEG) result = Infinity;
    else {
      const ysq = Math.trunc(x * 16) / 16;
      const del = (x - ysq) * (x + ysq);
      const e = Math.exp(ysq * ysq) * Math.exp(del);
      result = e + e - result;
    }
  }
  return result;
}

export function erf(x: number): number {
  return calerf(x, 0);
}
export function erfc(x: number): number {
  return calerf(x, 1);
}
/** Scaled complementary error function exp(x^2)·erfc(x). */
export function erfcx(x: number): number {
  return calerf(x, 2);
}

/** Standard normal CDF Φ(z), accurate in both tails. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** ln Φ(z), accurate far into the lower tail (uses erfcx there). */
export function normalLogCdf(z: number): number {
  if (z > -5) return Math.log(normalCdf(z));
  const t = -z / Math.SQRT2;
  return Math.log(0.5 * erfcx(t)) - t * t;
}

/** Standard normal upper tail 1 − Φ(z) = Φ(−z). */
export function normalSf(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/** Standard normal quantile Φ⁻¹(p), Wichura AS 241 (PPND16), ~1e-16 relative accuracy. */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (
      (q *
        (((((((2509.0809287301226727 * r + 33430.575583588128105) * r + 67265.770927008700853) * r +
          45921.953931549871457) * r + 13731.693765509461125) * r + 1971.5909503065514427) * r +
          133.14166789178437745) * r + 3.387132872796366608)) /
      (((((((5226.495278852854561 * r + 28729.085735721942674) * r + 39307.89580009271061) * r +
        21213.794301586595867) * r + 5394.1960214247511077) * r + 687.1870074920579083) * r +
        42.313330701600911252) * r + 1)
    );
  }
  let r = q < 0 ? p : 1 - p;
  r = Math.sqrt(-Math.log(r));
  let val: number;
  if (r <= 5) {
    r -= 1.6;
    val =
      (((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r + 0.24178072517745061177) * r +
        1.27045825245236838258) * r + 3.64784832476320460504) * r + 5.7694972214606914055) * r +
        4.6303378461565452959) * r + 1.42343711074968357734) /
      (((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r + 0.0151986665636164571966) * r +
        0.14810397642748007459) * r + 0.68976733498510000455) * r + 1.6763848301838038494) * r +
        2.05319162663775882187) * r + 1);
  } else {
    r -= 5;
    val =
      (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r + 0.0012426609473880784386) * r +
        0.026532189526576123093) * r + 0.29656057182850489123) * r + 1.7848265399172913358) * r +
        5.4637849111641143699) * r + 6.6579046435011037772) /
      (((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r + 1.8463183175100546818e-5) * r +
        7.868691311456132591e-4) * r + 0.0148753612908506148525) * r + 0.13692988092273580531) * r +
        0.59983220655588793769) * r + 1);
  }
  return q < 0 ? -val : val;
}

/** Standard normal quantile of the upper tail: Φ⁻¹(1 − q), precise for tiny q. */
export function normalQuantileUpper(q: number): number {
  return -normalQuantile(q);
}

/** ln(1 + e^x) without overflow. */
export function log1pExp(x: number): number {
  return x > 36 ? x + Math.exp(-x) : Math.log1p(Math.exp(x));
}

/** ln(e^a + e^b). */
export function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log1p(Math.exp(-Math.abs(a - b)));
}

/** ln(1 − e^x) for x <= 0 (Mächler 2012, "Accurately computing log(1 − exp(−|a|))"). */
export function log1mExp(x: number): number {
  if (x > 0) return NaN;
  if (x === 0) return -Infinity;
  return x > -Math.LN2 ? Math.log(-Math.expm1(x)) : Math.log1p(-Math.exp(x));
}

/** ln Σ e^{x_i}. */
export function logSumExp(xs: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < xs.length; i++) if (xs[i]! > m) m = xs[i]!;
  if (m === -Infinity || m === Infinity) return m;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += Math.exp(xs[i]! - m);
  return m + Math.log(s);
}

/**
 * Bisection for an increasing predicate's boundary: the smallest x in [lo, hi] (to `tol`,
 * relative or absolute, whichever is looser) with pred(x) true. pred(hi) must be true.
 */
export function bisect(pred: (x: number) => boolean, lo: number, hi: number, tol = 1e-12, maxIter = 2000): number {
  for (let i = 0; i < maxIter; i++) {
    const mid = lo + (hi - lo) / 2;
    if (mid === lo || mid === hi) break;
    if (pred(mid)) hi = mid;
    else lo = mid;
    if (hi - lo <= tol * Math.max(1, Math.abs(hi))) break;
  }
  return hi;
}
