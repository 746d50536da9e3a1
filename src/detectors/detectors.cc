// Placeholder translation unit; replaced by the detector implementations.
namespace modelmon::detectors {}
