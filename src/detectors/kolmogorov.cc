#include "detectors/kolmogorov.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <tuple>
#include <utility>
#include <vector>

namespace modelmon::detectors {
namespace {

// exp() of anything below this is 0 even as a subnormal (scipy's MIN_EXPABLE).
constexpr double kMinExpable = -708.0 - 38.0;
// Above this n, scipy's smirnov switches to a closed-form approximation.
constexpr int64_t kSmirnovMaxComputeN = 1000000;
// Rescaling step used by the Durbin and Pomeranz recursions to stay within the double range.
constexpr int kScaleExponent = 128;
constexpr double kPi = std::numbers::pi;

double Clip01(double p) {
  if (!(p > 0.0)) return 0.0;
  return p > 1.0 ? 1.0 : p;
}

int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int64_t CeilDiv(int64_t a, int64_t b) { return -FloorDiv(-a, b); }

// log(n! / n^n) by Stirling's series, as scipy's _log_nfactorial_div_n_pow_n.
double LogFactorialOverPower(int64_t n) {
  static constexpr double kStirling[] = {-2.955065359477124183e-2,  6.4102564102564102564e-3,
                                         -1.9175269175269175269e-3, 8.4175084175084175084e-4,
                                         -5.952380952380952381e-4,  7.9365079365079365079e-4,
                                         -2.7777777777777777778e-3, 8.3333333333333333333e-2};
  const double nd = static_cast<double>(n);
  const double rn = 1.0 / nd;
  const double y = rn / nd;
  double poly = 0.0;
  for (const double c : kStirling) poly = poly * y + c;
  return std::log(nd) / 2 - nd + std::log(2 * kPi) / 2 + rn * poly;
}

// Row-major square matrix product c = a * b of dimension m.
void MatMul(const std::vector<double>& a, const std::vector<double>& b, size_t m,
            std::vector<double>* c) {
  std::fill(c->begin(), c->end(), 0.0);
  for (size_t i = 0; i < m; ++i) {
    for (size_t k = 0; k < m; ++k) {
      const double aik = a[i * m + k];
      if (aik == 0.0) continue;
      for (size_t j = 0; j < m; ++j) (*c)[i * m + j] += aik * b[k * m + j];
    }
  }
}

// P(D_n <= d) by the Durbin matrix method (Marsaglia, Tsang & Wang 2003).
double DurbinCdf(int64_t n, double d) {
  if (d >= 1.0) return 1.0;
  const double nd = static_cast<double>(n) * d;
  if (nd <= 0.5) return 0.0;
  const auto k = static_cast<size_t>(std::ceil(nd));
  const double h = static_cast<double>(k) - nd;
  const size_t m = 2 * k - 1;
  std::vector<double> v(m), w(m);
  double fac = 1.0;
  for (size_t j = 1; j <= m; ++j) {
    w[j - 1] = fac;
    fac /= static_cast<double>(j);
    v[j - 1] = (1.0 - std::pow(h, static_cast<double>(j))) * fac;
  }
  const double tt = std::pow(std::max(2 * h - 1.0, 0.0), static_cast<double>(m)) -
                    2 * std::pow(h, static_cast<double>(m));
  v[m - 1] = (1.0 + tt) * fac;
  std::vector<double> hm(m * m, 0.0);
  for (size_t i = 1; i < m; ++i) {
    for (size_t r = i - 1; r < m; ++r) hm[r * m + i] = w[r - (i - 1)];
  }
  for (size_t r = 0; r < m; ++r) hm[r * m] = v[r];
  for (size_t c = 0; c < m; ++c) hm[(m - 1) * m + c] = v[m - 1 - c];

  std::vector<double> power(m * m, 0.0), scratch(m * m);
  for (size_t i = 0; i < m; ++i) power[i * m + i] = 1.0;
  const double big = std::ldexp(1.0, kScaleExponent);
  int64_t exponent = 0;
  int64_t h_exponent = 0;
  for (int64_t e = n; e > 0; e /= 2) {
    if (e % 2 != 0) {
      MatMul(power, hm, m, &scratch);
      power.swap(scratch);
      exponent += h_exponent;
    }
    MatMul(hm, hm, m, &scratch);
    hm.swap(scratch);
    h_exponent *= 2;
    if (std::abs(hm[(k - 1) * m + (k - 1)]) > big) {
      for (double& x : hm) x /= big;
      h_exponent += kScaleExponent;
    }
  }
  long double p = power[(k - 1) * m + (k - 1)];
  const long double small = std::ldexp(1.0L, -kScaleExponent);
  const auto nl = static_cast<long double>(n);
  for (int64_t i = 1; i <= n; ++i) {
    p = static_cast<long double>(i) * p / nl;
    if (std::abs(p) < small) {
      p *= static_cast<long double>(big);
      exponent -= kScaleExponent;
    }
  }
  return static_cast<double>(std::ldexp(p, static_cast<int>(exponent)));
}

// Column range [j1, j2] of row i in the Pomeranz recursion.
std::pair<int64_t, int64_t> PomeranzRange(int64_t i, int64_t n, int64_t ll, int64_t ceilf,
                                          int64_t roundf) {
  int64_t j1 = 0;
  int64_t j2 = 0;
  if (i == 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const int64_t half = (i + 1) / 2;
    if ((i + 1) % 2 == 0) {
      if (half == n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = half - 1 - ll - roundf - 1;
        j2 = half + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = half - 1 - ll - 1;
      j2 = half + ll + roundf - 1;
    }
  }
  return {std::max<int64_t>(j1 + 2, 0), std::min(j2, n)};
}

// P(D_n <= x) by the Pomeranz (1974) recursion.
double PomeranzCdf(int64_t n, double x) {
  const double nd = static_cast<double>(n);
  const double t = nd * x;
  const auto ll = static_cast<int64_t>(std::floor(t));
  const double f = t - static_cast<double>(ll);
  const double g = std::min(f, 1.0 - f);
  const int64_t ceilf = f > 0 ? 1 : 0;
  const int64_t roundf = f > 0.5 ? 1 : 0;
  const auto npwrs = static_cast<size_t>(2 * (ll + 1));
  std::vector<double> gpower(npwrs), twogpower(npwrs), onem2gpower(npwrs);
  gpower[0] = twogpower[0] = onem2gpower[0] = 1.0;
  for (size_t m = 1; m < npwrs; ++m) {
    const auto md = static_cast<double>(m);
    gpower[m] = gpower[m - 1] * (g / nd) / md;
    twogpower[m] = twogpower[m - 1] * (2 * g / nd) / md;
    onem2gpower[m] = onem2gpower[m - 1] * ((1 - 2 * g) / nd) / md;
  }
  std::vector<double> v0(npwrs, 0.0), v1(npwrs, 0.0);
  v1[0] = 1.0;
  int64_t v0s = 0;
  int64_t v1s = 0;
  int64_t exponent = 0;
  const double big = std::ldexp(1.0, kScaleExponent);
  const double small = std::ldexp(1.0, -kScaleExponent);
  const auto width = static_cast<int64_t>(npwrs);
  auto [j1, j2] = PomeranzRange(0, n, ll, ceilf, roundf);
  for (int64_t i = 1; i < 2 * n + 2; ++i) {
    const int64_t k1 = j1;
    v0.swap(v1);
    std::swap(v0s, v1s);
    std::fill(v1.begin(), v1.end(), 0.0);
    std::tie(j1, j2) = PomeranzRange(i, n, ll, ceilf, roundf);
    const std::vector<double>& pwrs =
        (i == 1 || i == 2 * n + 1) ? gpower : (i % 2 != 0 ? twogpower : onem2gpower);
    const int64_t ln2 = j2 - k1 + 1;
    if (ln2 <= 0) continue;
    // Full convolution of a = v0[k1 - v0s, +ln2) and b = pwrs[0, ln2), entries
    // [j1 - k1, j1 - k1 + (j2 - j1 + 1)).
    const int64_t a_start = k1 - v0s;
    const int64_t la = std::clamp<int64_t>(std::min(ln2, width - a_start), 0, width);
    const int64_t lb = std::min(ln2, width);
    const int64_t conv_start = j1 - k1;
    const int64_t conv_len = j2 - j1 + 1;
    double vmax = 0.0;
    for (int64_t c = 0; c < conv_len && c < width; ++c) {
      const int64_t idx = conv_start + c;
      double sum = 0.0;
      for (int64_t ia = std::max<int64_t>(0, idx - lb + 1); ia < la && ia <= idx; ++ia) {
        sum += v0[static_cast<size_t>(a_start + ia)] * pwrs[static_cast<size_t>(idx - ia)];
      }
      v1[static_cast<size_t>(c)] = sum;
      vmax = std::max(vmax, sum);
    }
    if (vmax > 0 && vmax < small) {
      for (double& y : v1) y *= big;
      exponent -= kScaleExponent;
    }
    v1s = v0s + j1 - k1;
  }
  double ans = v1[static_cast<size_t>(n - v1s)];
  for (int64_t m = 1; m <= n; ++m) {
    if (std::abs(ans) > big) {
      ans *= small;
      exponent += kScaleExponent;
    }
    ans *= static_cast<double>(m);
  }
  return std::ldexp(ans, static_cast<int>(exponent));
}

// Pelz-Good (1976) asymptotic approximation of P(D_n <= x).
double PelzGoodCdf(int64_t n, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double nd = static_cast<double>(n);
  const double z = std::sqrt(nd) * x;
  const double z2 = z * z;
  const double z3 = z2 * z;
  const double z4 = z2 * z2;
  const double z6 = z4 * z2;
  const double pi2 = kPi * kPi;
  const double pi4 = pi2 * pi2;
  const double pi6 = pi4 * pi2;
  const double sqrt2pi = std::sqrt(2 * kPi);
  const double qlog = -pi2 / 8 / z2;
  if (qlog < -708) return 0.0;
  double q = std::exp(qlog);
  const double k1a = -z2;
  const double k1b = pi2 / 4;
  const double k2a = 6 * z6 + 2 * z4;
  const double k2b = (2 * z4 - 5 * z2) * pi2 / 4;
  const double k2c = pi4 * (1 - 2 * z2) / 16;
  const double k3d = pi6 * (5 - 30 * z2) / 64;
  const double k3c = pi4 * (-60 * z2 + 212 * z4) / 16;
  const double k3b = pi2 * (135 * z4 - 96 * z6) / 4;
  const double k3a = -30 * z6 - 90 * z4 * z4;
  double terms[4] = {0, 0, 0, 0};
  const auto maxk = static_cast<int64_t>(std::ceil(16 * z / kPi));
  for (int64_t k = maxk; k > 0; --k) {
    const auto m = static_cast<double>(2 * k - 1);
    const double m2 = m * m;
    const double m4 = m2 * m2;
    const double m6 = m4 * m2;
    const double qpower = std::pow(q, static_cast<double>(8 * k));
    const double coeffs[4] = {1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4,
                              k3a + k3b * m2 + k3c * m4 + k3d * m6};
    for (int i = 0; i < 4; ++i) terms[i] = terms[i] * qpower + coeffs[i];
  }
  const double divisors[4] = {z, 6 * z4, 72 * std::pow(z, 7.0), 6480 * std::pow(z, 10.0)};
  for (int i = 0; i < 4; ++i) terms[i] = terms[i] * q * sqrt2pi / divisors[i];
  q = std::exp(-pi2 / 2 / z2);
  double k2extra = 0.0;
  double k3extra = 0.0;
  const double sqrt3z = std::sqrt(3.0) * z;
  for (int64_t k = maxk; k > 0; --k) {
    const auto kd = static_cast<double>(k);
    const double k2 = kd * kd;
    const double qp = std::pow(q, k2);
    const double kspi = kPi * kd;
    k2extra += k2 * qp;
    k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * k2 * qp;
  }
  terms[2] += k2extra * (pi2 * sqrt2pi / (-36 * z3));
  terms[3] += k3extra * (pi2 * sqrt2pi / (216 * z6));
  double sum = 0.0;
  for (int i = 0; i < 4; ++i) sum += terms[i] / std::pow(nd, i / 2.0);
  return sum;
}

// log of the k-th factor of ProbOutsideSquare: prod_{j<h} (n - kh - j) / (n + kh + j + 1).
double LogOutsideFactor(int64_t n, int64_t h, int64_t k) {
  const auto lg = [](int64_t x) { return std::lgamma(static_cast<double>(x)); };
  return lg(n - k * h + 1) - lg(n - k * h - h + 1) - (lg(n + k * h + h + 1) - lg(n + k * h + 1));
}

// Pr(D_{n,n} >= h/n): Horner form of the alternating binomial sum,
// p = f_0 (1 - f_1 (1 - f_2 (...))), each f_k < 1 and decreasing fast in k. Levels from the first
// k with f_k < 2^-70 on change the result by less than 2^-70 relative, far below a double's
// precision, so the recursion starts there: O(min(n, h sqrt(n))) instead of O(n) products.
double ProbOutsideSquare(int64_t n, int64_t h) {
  int64_t top = n / h;
  for (int64_t k = 1; k < top; ++k) {
    if (LogOutsideFactor(n, h, k) < -70 * std::log(2.0)) {
      top = k - 1;
      break;
    }
  }
  double p = 0.0;
  for (int64_t k = top; k >= 0; --k) {
    double p1 = 1.0;
    for (int64_t j = 0; j < h; ++j) {
      p1 = static_cast<double>(n - k * h - j) * p1 / static_cast<double>(n + k * h + j + 1);
    }
    p = p1 * (1.0 - p);
  }
  return 2 * p;
}

// 1 - (paths staying strictly inside |x/m - y/n| < h/lcm) / binom(m+n, n), by the column
// recursion on the complement (Viehmann 2021).
double OuterProbInside(int64_t m, int64_t n, int64_t g, int64_t h) {
  if (m < n) std::swap(m, n);
  const int64_t mg = m / g;
  const int64_t ng = n / g;
  int64_t minj = 0;
  int64_t maxj = std::min(CeilDiv(h, mg), n + 1);
  int64_t curlen = maxj - minj;
  std::vector<double> a(static_cast<size_t>(n + 2), 1.0);
  std::fill(a.begin(), a.begin() + maxj, 0.0);
  for (int64_t i = 1; i <= m; ++i) {
    const int64_t lastminj = minj;
    const int64_t lastlen = curlen;
    minj = std::min(std::max<int64_t>(FloorDiv(ng * i - h, mg) + 1, 0), n);
    maxj = std::min(CeilDiv(ng * i + h, mg), n + 1);
    if (maxj <= minj) return 1.0;
    double val = minj == 0 ? 0.0 : 1.0;
    const auto id = static_cast<double>(i);
    for (int64_t jj = 0; jj < maxj - minj; ++jj) {
      const auto jd = static_cast<double>(jj + minj);
      val = (a[static_cast<size_t>(jj + minj - lastminj)] * id + val * jd) / (id + jd);
      a[static_cast<size_t>(jj)] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) {
      std::fill(a.begin() + curlen, a.begin() + std::min(curlen + (lastlen - curlen), n + 2), 1.0);
    }
  }
  return a[static_cast<size_t>(maxj - minj - 1)];
}

}  // namespace

double SmirnovSf(int64_t n, double x) {
  if (!(x > 0.0)) return 1.0;
  if (x >= 1.0) return 0.0;
  if (n <= 1) return 1.0 - x;
  const double nd = static_cast<double>(n);
  // floor(n x) and its fractional part alpha, exactly (n x = p + e).
  const double p = nd * x;
  const double e = std::fma(nd, x, -p);
  const double floor_p = std::floor(p);
  double alpha = (p - floor_p) + e;
  auto nxfl = static_cast<int64_t>(floor_p);
  if (alpha < 0.0) {
    nxfl -= 1;
    alpha += 1.0;
  }
  if (alpha >= 1.0) {
    nxfl += 1;
    alpha = 0.0;
  }
  if (nxfl == 0 || (nxfl == 1 && alpha == 0.0)) {
    // x <= 1/n: cdf = x (1 + x)^(n-1).
    const long double cdf =
        static_cast<long double>(x) *
        std::exp(static_cast<long double>(n - 1) * std::log1p(static_cast<long double>(x)));
    return Clip01(1.0 - static_cast<double>(cdf));
  }
  if (-2.0 * nd * x * x < kMinExpable) return 0.0;
  if (nxfl >= n - 1) {
    return Clip01(static_cast<double>(
        std::exp(static_cast<long double>(n) * std::log1p(-static_cast<long double>(x)))));
  }
  if (n > kSmirnovMaxComputeN) {
    const double u = 6.0 * nd * x + 1.0;
    const double logp = -(u * u) / 18.0 / nd;
    const double sf = logp < -std::numbers::ln2 ? std::exp(logp) : 1.0 + std::expm1(logp);
    return Clip01(sf);
  }
  // Birnbaum-Tingey lower sum over v = 0 .. floor(n (1 - x)) (the last term excluded when n x is
  // an integer), each term C(n,v) (1 - x - v/n)^(n-v) (x + v/n)^(v-1), in log space.
  int64_t last = n - nxfl - (alpha == 0.0 ? 0 : 1);
  if (alpha == 0.0) last -= 1;
  const int64_t num_terms = last + 1;
  const long double nl = nd;
  const long double nx = static_cast<long double>(p) + static_cast<long double>(e);
  long double log_binom = 0.0L;
  long double sum = 0.0L;
  for (int64_t v = 0; v < num_terms; ++v) {
    const auto vl = static_cast<long double>(v);
    if (v > 0) log_binom += std::log(nl - vl + 1) - std::log(vl);
    const long double upper = (nx + vl) / nl;
    const long double lower = ((nl - vl) - nx) / nl;
    const long double term =
        std::exp(log_binom + (nl - vl) * std::log(lower) + (vl - 1) * std::log(upper));
    sum += term;
    if (term != 0.0L) {
      if (4 * static_cast<long double>(num_terms - v) * term <
              static_cast<long double>(DBL_EPSILON) * sum &&
          v != num_terms - 1) {
        break;
      }
    } else if (v > n / 2) {
      break;
    }
  }
  return Clip01(static_cast<double>(static_cast<long double>(x) * sum));
}

double KolmogorovSf(double d, int64_t n) {
  if (n < 1) n = 1;
  if (!(d < 1.0)) return 0.0;
  if (!(d > 0.0)) return 1.0;
  const double nd = static_cast<double>(n);
  const double t = nd * d;
  if (t <= 1.0) {
    // Ruben-Gambino: cdf = n! / n^n (2t - 1)^n for 1/2n <= d <= 1/n.
    if (t <= 0.5) return 1.0;
    double cdf = 1.0;
    if (n <= 140) {
      for (int64_t i = 1; i <= n; ++i) cdf *= static_cast<double>(i) * (1.0 / nd) * (2 * t - 1);
    } else {
      cdf = std::exp(LogFactorialOverPower(n) + nd * std::log(2 * t - 1));
    }
    return Clip01(1.0 - cdf);
  }
  if (t >= nd - 1) return Clip01(2 * std::pow(1.0 - d, nd));
  if (d >= 0.5) return Clip01(2 * SmirnovSf(n, d));
  const double nxsquared = t * d;
  if (n <= 140) {
    if (nxsquared <= 0.754693) return Clip01(1.0 - DurbinCdf(n, d));
    if (nxsquared <= 4) return Clip01(1.0 - PomeranzCdf(n, d));
    return Clip01(2 * SmirnovSf(n, d));
  }
  if (nxsquared >= 370.0) return 0.0;
  if (nxsquared >= 2.2) return Clip01(2 * SmirnovSf(n, d));
  double cdf = 0.0;
  if (nxsquared >= 18.0) {
    cdf = 1.0;
  } else if (n <= 100000 && nd * std::pow(d, 1.5) <= 1.4) {
    cdf = DurbinCdf(n, d);
  } else {
    cdf = PelzGoodCdf(n, d);
  }
  return Clip01(1.0 - cdf);
}

double KsTwoSampleExactSf(int64_t m, int64_t n, int64_t g, int64_t h) {
  if (h <= 0) return 1.0;
  if (m == n) return ProbOutsideSquare(m, h);
  return OuterProbInside(m, n, g, h);
}

}  // namespace modelmon::detectors
