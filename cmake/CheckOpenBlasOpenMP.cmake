# mono_check_openblas_openmp(TARGET): fails the configure step unless TARGET is
# an OpenBLAS built for OpenMP. The pthreads flavour keeps its own thread pool
# beside ours, so a GEMM called while our OpenMP threads run would put two
# threads on each core; openblas_get_parallel() says which flavour is linked
# (0 sequential, 1 pthreads, 2 OpenMP).
function(mono_check_openblas_openmp target)
    if(DEFINED CACHE{MONO_OPENBLAS_PARALLEL} AND MONO_OPENBLAS_PARALLEL STREQUAL "2")
        return()
    endif()
    set(dir ${CMAKE_BINARY_DIR}/CMakeFiles/openblas_check)
    file(WRITE ${dir}/check.c
         "#include <stdio.h>\nint openblas_get_parallel(void);\n"
         "int main(void) { printf(\"%d\", openblas_get_parallel()); return 0; }\n")
    try_run(run_rc compiled ${dir}/build ${dir}/check.c
            LINK_LIBRARIES ${target}
            COMPILE_OUTPUT_VARIABLE compile_log
            RUN_OUTPUT_VARIABLE parallel)
    if(NOT compiled)
        message(FATAL_ERROR "OpenBLAS was found but a program calling it does not link:\n${compile_log}")
    endif()
    if(NOT parallel STREQUAL "2")
        message(FATAL_ERROR "The OpenBLAS that pkg-config found is not the OpenMP flavour "
                            "(openblas_get_parallel() = '${parallel}'; 2 is OpenMP): install "
                            "libopenblas-openmp-dev and select it with update-alternatives "
                            "--config libopenblas.so-x86_64-linux-gnu")
    endif()
    set(MONO_OPENBLAS_PARALLEL ${parallel} CACHE INTERNAL "openblas_get_parallel() of the linked OpenBLAS")
endfunction()
