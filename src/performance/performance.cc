// Placeholder translation unit; replaced by the performance calculators.
namespace modelmon::performance {}
