# modelmon_set_sanitizers(target): ASan + UBSan when MODELMON_SANITIZE is on. Every target of the
# build must get the same flags, so tests and benchmarks call this as well.
function(modelmon_set_sanitizers target)
  if(MODELMON_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
                                             -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()
