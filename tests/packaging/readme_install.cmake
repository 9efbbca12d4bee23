# cmake -P driver for packaging.readme_install: README.md's install, find_package and pkg-config
# blocks, run as printed (extracted by tests/packaging/CMakeLists.txt at configure time).
#  1. WORK_DIR/tegata is a copy of the source as it is now (tegata_copy_source), and HOME is
#     WORK_DIR/home, so that the README's prefix "$HOME/.local" is a scratch directory;
#  2. the install block runs with sh in WORK_DIR. It must build nothing (tegata is header-only,
#     and the tool is installed only when it was built): no object file, no tools/tegata, no
#     bin/tegata in the prefix;
#  3. the prefix holds every header of the source, byte for byte, the CMake package, tegata.pc and
#     the license; with hiredis (EXPECT_REDIS) tegata::redis's package files and tegata-redis.pc;
#     with SQLite (EXPECT_SQLITE) tegata::sqlite's package files and tegata-sqlite.pc;
#  4. a project made of README's find_package block (after `project()` and
#     `add_executable(app app.cpp)`) configures with -DCMAKE_PREFIX_PATH="$HOME/.local", as the
#     block says, finds tegata there, builds and prints "ok";
#  5. with hiredis (EXPECT_REDIS), docs/redis.md's CMake block, after `project()` and
#     `add_executable(server server.cpp)`, configures against the same prefix, builds, and its
#     program reaches hiredis (server.cpp is tests/packaging/pkg_config_redis_main.cpp: a store
#     on a socket that does not exist answers store_unavailable);
#  6. the pkg-config block runs with sh beside app.cpp, and its a.out prints "ok". Without
#     pkg-config this step is skipped with a message, or fails when TEGATA_REQUIRE_E2E is set.
# app.cpp is tests/consumers/main.cpp. The blocks run with the environment of the test plus HOME
# and CXX (the compiler of this build, for the configures they run).
#
# Required: -DSOURCE_DIR=<checkout> -DWORK_DIR=<scratch> -DGENERATOR=<generator>
#           -DCXX_COMPILER=<path> -DINSTALL_SNIPPET=<file> -DFIND_PACKAGE_SNIPPET=<file>
#           -DPKG_CONFIG_SNIPPET=<file>
# Optional: -DEXPECT_REDIS=<bool> -DREDIS_CMAKE_SNIPPET=<file, required with EXPECT_REDIS>
#           -DEXPECT_SQLITE=<bool>
#           -DPKG_CONFIG=<path> -DMAKE_PROGRAM=<path> -DGIT=<path>
#           -DPASS_ARGS=<'|'-separated -D arguments, for the configure of step 4>
cmake_minimum_required(VERSION 3.25)

set(driver readme_install.cmake)
include("${CMAKE_CURRENT_LIST_DIR}/../support/driver.cmake")
tegata_require(SOURCE_DIR WORK_DIR GENERATOR CXX_COMPILER INSTALL_SNIPPET FIND_PACKAGE_SNIPPET
               PKG_CONFIG_SNIPPET)
tegata_configure_args(Release)

set(failures 0)
macro(fail text)
  message(SEND_ERROR "FAIL: ${text}")
  math(EXPR failures "${failures} + 1")
endmacro()
macro(stop_on_failures)
  if(failures GREATER 0)
    message(FATAL_ERROR "${failures} check(s) failed")
  endif()
endmacro()

# --- 1. A copy of the source, and a scratch HOME -----------------------------------------------
file(REMOVE_RECURSE "${WORK_DIR}")
tegata_copy_source("${SOURCE_DIR}" "${WORK_DIR}/tegata")
set(home "${WORK_DIR}/home")
file(MAKE_DIRECTORY "${home}")
set(ENV{HOME} "${home}")
set(ENV{CXX} "${CXX_COMPILER}")
set(prefix "${home}/.local")

# --- 2. The install block -------------------------------------------------------------------
file(READ "${INSTALL_SNIPPET}" block)
message(STATUS "README.md's install block, in ${WORK_DIR}:\n${block}")
run(sh -e "${INSTALL_SNIPPET}" WORKING_DIRECTORY "${WORK_DIR}")

file(GLOB_RECURSE objects "${WORK_DIR}/build/*.o" "${WORK_DIR}/build/*.obj")
if(objects)
  fail("the install block compiled something: ${objects}")
endif()
if(EXISTS "${WORK_DIR}/build/tools/tegata")
  fail("the install block built the tegata tool")
endif()
if(EXISTS "${prefix}/bin/tegata")
  fail("the tegata tool was installed although it was not built")
endif()

# --- 3. The installed tree ----------------------------------------------------------------------
file(GLOB_RECURSE source_headers RELATIVE "${SOURCE_DIR}/include" "${SOURCE_DIR}/include/*.hpp")
file(GLOB_RECURSE installed_headers RELATIVE "${prefix}/include" "${prefix}/include/*")
list(SORT source_headers)
list(SORT installed_headers)
if(NOT source_headers STREQUAL installed_headers)
  fail("the installed headers are not the source's:\n  source: ${source_headers}\n"
       "  installed: ${installed_headers}")
else()
  foreach(header IN LISTS source_headers)
    file(SHA256 "${SOURCE_DIR}/include/${header}" a)
    file(SHA256 "${prefix}/include/${header}" b)
    if(NOT a STREQUAL b)
      fail("include/${header} differs from the source's")
    endif()
  endforeach()
endif()
set(expected lib/cmake/tegata/tegataConfig.cmake lib/cmake/tegata/tegataConfigVersion.cmake
             lib/cmake/tegata/tegataTargets.cmake share/pkgconfig/tegata.pc
             share/doc/tegata/LICENSE)
# An optional target's files: expected when this build has the target, absent otherwise.
macro(expect_optional built what)
  if(${built})
    list(APPEND expected ${ARGN})
  else()
    foreach(file IN ITEMS ${ARGN})
      if(EXISTS "${prefix}/${file}")
        fail("${file} is installed although this build found no ${what}")
      endif()
    endforeach()
  endif()
endmacro()
expect_optional(EXPECT_REDIS hiredis lib/cmake/tegata/tegataRedisTargets.cmake
                lib/cmake/tegata/TegataRedis.cmake share/pkgconfig/tegata-redis.pc)
expect_optional(EXPECT_SQLITE SQLite lib/cmake/tegata/tegataSqliteTargets.cmake
                lib/cmake/tegata/TegataSqlite.cmake share/pkgconfig/tegata-sqlite.pc)
foreach(file IN LISTS expected)
  if(NOT EXISTS "${prefix}/${file}")
    fail("the install lacks ${file}")
  endif()
endforeach()
stop_on_failures()

# --- 4. find_package, as README.md's block does it --------------------------------------------
set(app "${WORK_DIR}/app")
file(READ "${FIND_PACKAGE_SNIPPET}" block)
file(WRITE "${app}/CMakeLists.txt"
     "cmake_minimum_required(VERSION 3.25)\nproject(app LANGUAGES CXX)\n"
     "add_executable(app app.cpp)\n${block}")
file(COPY_FILE "${CMAKE_CURRENT_LIST_DIR}/../consumers/main.cpp" "${app}/app.cpp")
run("${CMAKE_COMMAND}" -S "${app}" -B "${app}/build" ${configure_args}
    "-DCMAKE_PREFIX_PATH=${prefix}")
file(STRINGS "${app}/build/CMakeCache.txt" tegata_dir REGEX "^tegata_DIR:")
string(REGEX REPLACE "^tegata_DIR:[A-Z]+=" "" tegata_dir "${tegata_dir}")
cmake_path(IS_PREFIX prefix "${tegata_dir}" NORMALIZE from_prefix)
if(NOT from_prefix)
  message(FATAL_ERROR "find_package found tegata in '${tegata_dir}', not under ${prefix}")
endif()
run("${CMAKE_COMMAND}" --build "${app}/build" --parallel 2)
execute_process(COMMAND "${app}/build/app" RESULT_VARIABLE result OUTPUT_VARIABLE output
                ERROR_VARIABLE output)
if(NOT result EQUAL 0 OR NOT output STREQUAL "ok\n")
  message(FATAL_ERROR "the find_package project's program failed: exit ${result}: ${output}")
endif()

# --- 5. tegata::redis, as docs/redis.md's CMake block does it ---------------------------------
if(EXPECT_REDIS)
  tegata_require(REDIS_CMAKE_SNIPPET)
  set(server "${WORK_DIR}/server")
  file(READ "${REDIS_CMAKE_SNIPPET}" block)
  message(STATUS "docs/redis.md's CMake block, in ${server}:\n${block}")
  file(WRITE "${server}/CMakeLists.txt"
       "cmake_minimum_required(VERSION 3.25)\nproject(server LANGUAGES CXX)\n"
       "add_executable(server server.cpp)\n${block}")
  file(COPY_FILE "${CMAKE_CURRENT_LIST_DIR}/pkg_config_redis_main.cpp" "${server}/server.cpp")
  run("${CMAKE_COMMAND}" -S "${server}" -B "${server}/build" ${configure_args}
      "-DCMAKE_PREFIX_PATH=${prefix}")
  run("${CMAKE_COMMAND}" --build "${server}/build" --parallel 2)
  execute_process(COMMAND "${server}/build/server" "${server}" RESULT_VARIABLE result
                  OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(NOT result EQUAL 0 OR NOT output MATCHES "^tegata-redis [0-9]+\\.[0-9]+\\.[0-9]+ ok\n$")
    message(FATAL_ERROR "the program of docs/redis.md's CMake block failed: exit ${result}: "
                        "${output}")
  endif()
else()
  message(STATUS "this build found no hiredis: docs/redis.md's CMake block (tegata::redis) was "
                 "not run")
endif()

# --- 6. pkg-config, as README.md's block does it ----------------------------------------------
if(NOT PKG_CONFIG OR NOT EXISTS "${PKG_CONFIG}")
  set(text "pkg-config was not found at configure time (Debian: apt-get install pkg-config)")
  if("$ENV{TEGATA_REQUIRE_E2E}" MATCHES "^([1]|[Oo][Nn]|[Tt][Rr][Uu][Ee]|[Yy][Ee][Ss])$")
    message(FATAL_ERROR "FAIL: ${text} (TEGATA_REQUIRE_E2E is set)")
  endif()
  message("SKIP: ${text}: the pkg-config block was not run")
  return()
endif()
file(READ "${PKG_CONFIG_SNIPPET}" block)
message(STATUS "README.md's pkg-config block, in ${app}:\n${block}")
run(sh -e "${PKG_CONFIG_SNIPPET}" WORKING_DIRECTORY "${app}")
execute_process(COMMAND "${app}/a.out" RESULT_VARIABLE result OUTPUT_VARIABLE output
                ERROR_VARIABLE output)
if(NOT result EQUAL 0 OR NOT output STREQUAL "ok\n")
  message(FATAL_ERROR "the program built with pkg-config failed: exit ${result}: ${output}")
endif()
message(STATUS "packaging.readme_install: ok")
