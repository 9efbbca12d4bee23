# Run as an interop test when the peer's interpreter was not found at configure time:
# skipped with a message, or a failure when TEGATA_REQUIRE_INTEROP is set.
set(text "the ${PEER} interop test needs an interpreter that was not found ('${WHAT}'): install nodejs/npm (then `npm ci --prefix tests/interop`) or python3-jwt, and reconfigure")
if("$ENV{TEGATA_REQUIRE_INTEROP}" MATCHES "^([1]|[Oo][Nn]|[Tt][Rr][Uu][Ee]|[Yy][Ee][Ss])$")
  message(FATAL_ERROR "FAIL: ${text} (TEGATA_REQUIRE_INTEROP is set)")
endif()
message("SKIP: ${text}")
