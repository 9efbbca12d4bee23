# tegata_target_warnings(<target>)
#
# Warning flags for tegata's own targets (tests, examples, benchmarks); never applied to
# tegata::tegata itself, so users keep their own flags. Adds -Werror (/WX) when TEGATA_WERROR.
# Also compiles the target with OpenSSL's deprecated APIs hidden, which proves tegata's headers
# use OpenSSL 3 EVP interfaces only.
include_guard(GLOBAL)

function(tegata_target_warnings target)
  target_compile_definitions(${target} PRIVATE OPENSSL_API_COMPAT=30000 OPENSSL_NO_DEPRECATED)
  if(MSVC)
    target_compile_options(${target} PRIVATE /W4 /permissive- $<$<BOOL:${TEGATA_WERROR}>:/WX>)
  else()
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic
                                             $<$<BOOL:${TEGATA_WERROR}>:-Werror>)
  endif()
endfunction()
