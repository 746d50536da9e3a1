#ifndef MODELMON_PERFORMANCE_EXACT_SUM_H_
#define MODELMON_PERFORMANCE_EXACT_SUM_H_

#include <array>
#include <cstdint>

namespace modelmon::performance {

// An unevaluated sum hi + lo of two doubles with |lo| <= ulp(hi) / 2 ("double-double"), carrying
// about 106 significant bits.
struct DoubleDouble {
  double hi = 0.0;
  double lo = 0.0;
};

// Double-double arithmetic (Dekker / Knuth error-free transformations with fused multiply-add).
// Relative error of each operation is below 2^-100 when no intermediate overflows or underflows.
DoubleDouble DdFromProduct(double a, double b);  // exact unless a * b underflows or overflows
DoubleDouble DdAdd(DoubleDouble a, DoubleDouble b);
DoubleDouble DdSub(DoubleDouble a, DoubleDouble b);
DoubleDouble DdMul(DoubleDouble a, DoubleDouble b);
DoubleDouble DdDiv(DoubleDouble a, double b);  // precondition: b != 0

// Exact running sum of finite doubles (a fixed-point "superaccumulator" spanning the whole double
// range, 2^-1074 .. 2^1024, plus 2^63 of headroom). Add and Subtract are exact, so any sequence of
// additions and removals leaves no rounding error behind: after removing every added value the
// sum is exactly zero, and reading the value rounds only once.
//
// Not thread-safe; callers serialise access. Size: 544 bytes, no heap allocation.
// Complexity: Add/Subtract O(1) (three limbs touched, plus a carry pass every 2^28 calls);
// Value/ValueDd O(limbs) = O(1).
class ExactSum {
 public:
  // Precondition: x is finite (checked by callers; non-finite input is ignored here).
  void Add(double x) { Accumulate(x, false); }
  void Subtract(double x) { Accumulate(x, true); }

  // The exact sum to about 106 bits: relative error below 2^-100. Overflows to +-inf when the
  // exact sum exceeds the double range.
  DoubleDouble ValueDd() const;
  // The exact sum rounded to double (relative error below 2^-52).
  double Value() const { return ValueDd().hi; }
  // True when the exact sum is zero.
  bool IsZero() const;

 private:
  static constexpr int kLimbBits = 32;
  static constexpr int kLimbs = 68;  // 68 * 32 = 2176 bits >= 2098 + 64 headroom
  void Accumulate(double x, bool negate);
  static void Normalize(std::array<int64_t, kLimbs>& limbs);

  std::array<int64_t, kLimbs> limbs_{};
  uint32_t pending_ = 0;  // Accumulate calls since the last carry pass
};

}  // namespace modelmon::performance

#endif  // MODELMON_PERFORMANCE_EXACT_SUM_H_
