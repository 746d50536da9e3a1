#ifndef MODELMON_COMMON_THREAD_ANNOTATIONS_H_
#define MODELMON_COMMON_THREAD_ANNOTATIONS_H_

// Clang thread-safety annotations (checked with -Wthread-safety under clang; documentation
// elsewhere).
#if defined(__clang__)
#define MODELMON_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define MODELMON_THREAD_ANNOTATION(x)
#endif

#define GUARDED_BY(x) MODELMON_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) MODELMON_THREAD_ANNOTATION(pt_guarded_by(x))
#define EXCLUSIVE_LOCKS_REQUIRED(...) \
  MODELMON_THREAD_ANNOTATION(exclusive_locks_required(__VA_ARGS__))
#define LOCKS_EXCLUDED(...) MODELMON_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))

#endif  // MODELMON_COMMON_THREAD_ANNOTATIONS_H_
