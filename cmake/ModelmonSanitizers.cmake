# modelmon_set_sanitizers(target): ASan + UBSan when MODELMON_SANITIZE is on. Every target of the
# build must get the same flags, so tests and benchmarks call this as well.
function(modelmon_set_sanitizers target)
  if(MODELMON_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
                                             -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      # GCC's flow analysis sees through the sanitizer instrumentation poorly and reports
      # maybe-uninitialized in Boost.Beast and libstdc++ headers; the release build keeps the check.
      target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
    endif()
  endif()
endfunction()
