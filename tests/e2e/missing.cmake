# Run as an e2e test whose prerequisite was missing at configure time (-DWHAT=<what is missing>):
# skipped with a message, or a failure when TEGATA_REQUIRE_E2E is set in the environment.
if("$ENV{TEGATA_REQUIRE_E2E}" MATCHES "^([1]|[Oo][Nn]|[Tt][Rr][Uu][Ee]|[Yy][Ee][Ss])$")
  message(FATAL_ERROR "FAIL: ${WHAT} (TEGATA_REQUIRE_E2E is set)")
endif()
message("SKIP: ${WHAT}")
