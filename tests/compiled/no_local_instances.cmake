# cmake -P: the object file of a translation unit that links tegata::compiled defines none of the
# SessionManager members compiled in the library, nor the functions of the headers' *_inl.hpp it
# calls (NM, OBJECT: paths). If the extern template
# declarations stopped applying (say, a member defined inside the class again, which makes it
# inline), every such translation unit would compile them again, and this fails.
# Mangled names (nm -C takes minutes on a debug object): Itanium ABI, as GCC and Clang write them,
# "14SessionManagerI<its arguments>E<length><member>".
execute_process(COMMAND "${NM}" --defined-only "${OBJECT}" OUTPUT_VARIABLE symbols
                COMMAND_ERROR_IS_FATAL ANY)
string(REGEX MATCHALL
       "[^\n]*14SessionManagerI[^\n]*E(5issue|8validate|7refresh|6revoke|10revoke_all|6rotate|4mint)E[^\n]*"
       local "${symbols}")
# Nor any function of the headers' *_inl.hpp that it uses: the cookie writer's constructor and
# cookie builder, the memory store's operations, the strict JSON reader and the error category's
# message (each a definition the headers leave out).
string(REGEX MATCHALL
       "[^\n]*(10CookieWriter(C[12]E|4make)|21MemoryRevocationStore(C[12]ENS0_7OptionsE|6status|12find_session|14create_session|14rotate_session|11end_session|8sessions|12revoke_token|12bump_version|9use_proof)|17parse_json_object|19strict_json_builder|19error_category_impl7message)[^\n]*"
       local_definitions "${symbols}")
list(APPEND local ${local_definitions})
if(local)
  list(JOIN local "\n" local)
  message(FATAL_ERROR "defined in ${OBJECT}, although tegata::compiled has them:\n${local}")
endif()
string(FIND "${symbols}" "main" has_main)
if(has_main EQUAL -1)
  message(FATAL_ERROR "${OBJECT} does not look like the test's object file:\n${symbols}")
endif()
message(STATUS "no SessionManager member and no *_inl.hpp function compiled locally")
