#include "performance/exact_sum.h"

#include <bit>
#include <cmath>

namespace modelmon::performance {
namespace {

DoubleDouble TwoSum(double a, double b) {
  const double s = a + b;
  const double bb = s - a;
  const double err = (a - (s - bb)) + (b - bb);
  return {s, err};
}

DoubleDouble QuickTwoSum(double a, double b) {
  const double s = a + b;
  return {s, b - (s - a)};
}

}  // namespace

DoubleDouble DdFromProduct(double a, double b) {
  const double p = a * b;
  return {p, std::fma(a, b, -p)};
}

DoubleDouble DdAdd(DoubleDouble a, DoubleDouble b) {
  DoubleDouble s = TwoSum(a.hi, b.hi);
  const DoubleDouble t = TwoSum(a.lo, b.lo);
  s.lo += t.hi;
  s = QuickTwoSum(s.hi, s.lo);
  s.lo += t.lo;
  return QuickTwoSum(s.hi, s.lo);
}

DoubleDouble DdSub(DoubleDouble a, DoubleDouble b) { return DdAdd(a, {-b.hi, -b.lo}); }

DoubleDouble DdMul(DoubleDouble a, DoubleDouble b) {
  DoubleDouble p = DdFromProduct(a.hi, b.hi);
  p.lo += a.hi * b.lo + a.lo * b.hi;
  return QuickTwoSum(p.hi, p.lo);
}

DoubleDouble DdDiv(DoubleDouble a, double b) {
  const double q1 = a.hi / b;
  DoubleDouble r = DdSub(a, DdFromProduct(q1, b));
  const double q2 = r.hi / b;
  r = DdSub(r, DdFromProduct(q2, b));
  const double q3 = r.hi / b;
  DoubleDouble q = QuickTwoSum(q1, q2);
  return DdAdd(q, {q3, 0.0});
}

void ExactSum::Accumulate(double x, bool negate) {
  if (x == 0.0 || !std::isfinite(x)) return;
  const uint64_t bits = std::bit_cast<uint64_t>(x);
  const bool negative = ((bits >> 63) != 0) != negate;
  const uint64_t exponent = (bits >> 52) & 0x7ffu;
  uint64_t mantissa = bits & ((uint64_t{1} << 52) - 1);
  // Bit position of the mantissa's lowest bit, counting 2^-1074 as position 0.
  uint64_t position = 0;
  if (exponent != 0) {
    mantissa |= uint64_t{1} << 52;
    position = exponent - 1;
  }
  const size_t limb = static_cast<size_t>(position / kLimbBits);
  const uint64_t shift = position % kLimbBits;
  const uint64_t mask = (uint64_t{1} << kLimbBits) - 1;
  const uint64_t low = (mantissa & mask) << shift;         // < 2^63
  const uint64_t high = (mantissa >> kLimbBits) << shift;  // < 2^52
  const int64_t parts[3] = {static_cast<int64_t>(low & mask),
                            static_cast<int64_t>((low >> kLimbBits) + (high & mask)),
                            static_cast<int64_t>(high >> kLimbBits)};
  for (size_t i = 0; i < 3; ++i) {
    limbs_[limb + i] += negative ? -parts[i] : parts[i];
  }
  // Each call moves a limb by less than 2^34; a carry pass every 2^28 calls keeps |limb| < 2^63.
  if (++pending_ >= (uint32_t{1} << 28)) {
    Normalize(limbs_);
    pending_ = 0;
  }
}

void ExactSum::Normalize(std::array<int64_t, kLimbs>& limbs) {
  constexpr int64_t kBase = int64_t{1} << kLimbBits;
  for (size_t i = 0; i + 1 < limbs.size(); ++i) {
    // Floor division by 2^32 (arithmetic shift is well defined in C++20).
    const int64_t carry = limbs[i] >> kLimbBits;
    limbs[i] -= carry * kBase;
    limbs[i + 1] += carry;
  }
}

bool ExactSum::IsZero() const {
  std::array<int64_t, kLimbs> limbs = limbs_;
  Normalize(limbs);
  for (int64_t v : limbs) {
    if (v != 0) return false;
  }
  return true;
}

DoubleDouble ExactSum::ValueDd() const {
  std::array<int64_t, kLimbs> limbs = limbs_;
  Normalize(limbs);
  // After the carry pass limbs[0..kLimbs-2] lie in [0, 2^32) and the top limb carries the sign.
  const bool negative = limbs[kLimbs - 1] < 0;
  if (negative) {
    for (int64_t& v : limbs) v = -v;
    Normalize(limbs);
  }
  int top = kLimbs - 1;
  while (top >= 0 && limbs[static_cast<size_t>(top)] == 0) --top;
  if (top < 0) return {};
  // Four 32-bit limbs below the leading one carry more than the 106 bits a double-double holds;
  // summing them from the least significant up keeps the error below 2^-100 relative.
  const int lowest = top >= 5 ? top - 5 : 0;
  DoubleDouble sum;
  for (int i = lowest; i <= top; ++i) {
    const double part =
        std::ldexp(static_cast<double>(limbs[static_cast<size_t>(i)]), i * kLimbBits - 1074);
    sum = DdAdd(sum, {part, 0.0});
  }
  if (!std::isfinite(sum.hi)) sum = {HUGE_VAL, 0.0};
  if (negative) sum = {-sum.hi, -sum.lo};
  return sum;
}

}  // namespace modelmon::performance
