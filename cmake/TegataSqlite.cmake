# TegataSqlite.cmake - the optional tegata::sqlite target (include/tegata/store/sqlite.hpp):
# tegata plus SQLite 3. tegata::tegata never depends on it; a build without SQLite simply has no
# tegata::sqlite.
#
# Used in two places:
#  - tegata's top-level CMakeLists.txt, which defines the INTERFACE target tegata_sqlite (alias
#    tegata::sqlite, exported as tegata::sqlite) when SQLite 3 is found;
#  - the installed tegataConfig.cmake, which finds SQLite 3 again (SQLite::SQLite3) before it
#    loads the exported tegata::sqlite.
#
# SQLite 3 is found with CMake's FindSQLite3 (the imported target SQLite::SQLite3; Debian:
# libsqlite3-dev). The store needs SQLite 3.35 or later (upserts with row values, sqlite_schema;
# Debian 12 has 3.40).
#
# Options (tegata's own build only):
#   TEGATA_SQLITE          build tegata::sqlite when SQLite 3 is found (default ON)
#   TEGATA_REQUIRE_SQLITE  fail at configure time without SQLite 3 (default: the environment
#                          variable TEGATA_REQUIRE_SQLITE, which .ci/run may set)
include_guard(GLOBAL)

if(NOT TARGET SQLite::SQLite3)
  find_package(SQLite3 QUIET)
endif()
# Whether pkg-config knows SQLite too (sqlite3.pc), for tegata-sqlite.pc's Requires.
if(TARGET SQLite::SQLite3 AND NOT DEFINED PC_TEGATA_SQLITE3_FOUND)
  find_package(PkgConfig QUIET)
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(PC_TEGATA_SQLITE3 QUIET sqlite3)
  endif()
endif()

# The build target: only when included by tegata's own CMakeLists.txt.
if(DEFINED tegata_SOURCE_DIR AND CMAKE_CURRENT_LIST_DIR STREQUAL "${tegata_SOURCE_DIR}/cmake"
   AND TARGET tegata AND NOT TARGET tegata_sqlite)
  option(TEGATA_SQLITE
         "Build tegata::sqlite (the SQLite-backed RevocationStore) when SQLite 3 is found" ON)
  set(tegata_require_sqlite_default OFF)
  if(DEFINED ENV{TEGATA_REQUIRE_SQLITE} AND "$ENV{TEGATA_REQUIRE_SQLITE}")
    set(tegata_require_sqlite_default ON)
  endif()
  option(TEGATA_REQUIRE_SQLITE "Fail at configure time when tegata::sqlite cannot be built"
         ${tegata_require_sqlite_default})

  if(TEGATA_SQLITE AND TARGET SQLite::SQLite3)
    add_library(tegata_sqlite INTERFACE)
    add_library(tegata::sqlite ALIAS tegata_sqlite)
    set_target_properties(tegata_sqlite PROPERTIES EXPORT_NAME sqlite)
    target_link_libraries(tegata_sqlite INTERFACE tegata::tegata SQLite::SQLite3)
    message(STATUS "tegata: tegata::sqlite with SQLite ${SQLite3_VERSION} (${SQLite3_LIBRARY})")
  elseif(TEGATA_REQUIRE_SQLITE)
    message(FATAL_ERROR "tegata: TEGATA_REQUIRE_SQLITE=ON but tegata::sqlite cannot be built: "
                        "SQLite 3 not found (Debian: libsqlite3-dev) or TEGATA_SQLITE=OFF")
  else()
    message(STATUS "tegata: SQLite 3 not found (Debian: libsqlite3-dev), tegata::sqlite is not "
                   "built")
  endif()
endif()
