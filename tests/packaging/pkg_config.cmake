# cmake -P driver for packaging.pkg_config: a program builds from an installed tegata with
# nothing but `pkg-config --cflags --libs tegata`.
#  1. configure tegata with its tests off and install it into a scratch prefix;
#  2. move the prefix elsewhere (the .pc file is relocatable: its paths are relative to itself);
#  3. pkg-config, pointed at the moved prefix only, reports the project version, an include
#     directory inside the moved prefix, and libcrypto among the libraries;
#  4. pkg_config_main.cpp compiles with those flags (and -std=c++20), runs, and prints the version
#     of the headers, which must be the project version too;
#  5. with REDIS (this build has tegata::redis), the same for tegata-redis: its version, an
#     include directory in the moved prefix, hiredis and libcrypto among the libraries, and
#     pkg_config_redis_main.cpp built with its flags alone runs; without REDIS, no tegata-redis.pc
#     is installed;
#  6. with SQLITE (this build has tegata::sqlite), the same for tegata-sqlite, with
#     pkg_config_sqlite_main.cpp; without SQLITE, no tegata-sqlite.pc is installed.
# No pkg-config program: SKIP, or FAIL when TEGATA_REQUIRE_E2E is set in the environment.
#
# Required: -DSOURCE_DIR=<checkout> -DWORK_DIR=<scratch> -DGENERATOR=<generator>
#           -DCXX_COMPILER=<path> -DVERSION=<project version>
# Optional: -DPKG_CONFIG=<path> -DMAKE_PROGRAM=<path> -DPASS_ARGS=<'|'-separated -D arguments>
#           -DREDIS=<bool> -DSQLITE=<bool>
cmake_minimum_required(VERSION 3.25)

set(driver pkg_config.cmake)
include("${CMAKE_CURRENT_LIST_DIR}/../support/driver.cmake")
tegata_require(SOURCE_DIR WORK_DIR GENERATOR CXX_COMPILER VERSION)

if(NOT PKG_CONFIG OR NOT EXISTS "${PKG_CONFIG}")
  set(text "pkg-config was not found at configure time (Debian: apt-get install pkg-config)")
  if("$ENV{TEGATA_REQUIRE_E2E}" MATCHES "^([1]|[Oo][Nn]|[Tt][Rr][Uu][Ee]|[Yy][Ee][Ss])$")
    message(FATAL_ERROR "FAIL: ${text} (TEGATA_REQUIRE_E2E is set)")
  endif()
  message("SKIP: ${text}")
  return()
endif()

tegata_configure_args(Release)

file(REMOVE_RECURSE "${WORK_DIR}")
set(installed "${WORK_DIR}/installed")
set(moved "${WORK_DIR}/moved/elsewhere")
tegata_install("${SOURCE_DIR}" "${WORK_DIR}/build" "${installed}")
file(MAKE_DIRECTORY "${WORK_DIR}/moved")
file(RENAME "${installed}" "${moved}")

file(GLOB_RECURSE pc_files "${moved}/*/tegata.pc")
list(LENGTH pc_files count)
if(NOT count EQUAL 1)
  message(FATAL_ERROR "expected one installed tegata.pc, found: ${pc_files}")
endif()
cmake_path(GET pc_files PARENT_PATH pc_dir)

# Only the moved prefix, plus the system's directories for libcrypto, nlohmann_json and hiredis.
set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
function(pkg_config out module)
  execute_process(COMMAND "${PKG_CONFIG}" ${ARGN} ${module} RESULT_VARIABLE result
                  OUTPUT_VARIABLE output ERROR_VARIABLE error OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "pkg-config ${ARGN} ${module} failed: ${error}")
  endif()
  message(STATUS "pkg-config ${ARGN} ${module}: ${output}")
  set(${out} "${output}" PARENT_SCOPE)
endfunction()

set(failures 0)
macro(fail text)
  message(SEND_ERROR "FAIL: ${text}")
  math(EXPR failures "${failures} + 1")
endmacro()

# check_module(<module> <library regexes> <main.cpp> <expected output>): steps 3 and 4 for one
# .pc; --libs must match each regex of the list.
function(check_module module library_regexes main expected_output)
  pkg_config(modversion ${module} --modversion)
  pkg_config(cflags ${module} --cflags)
  pkg_config(libs ${module} --libs)
  pkg_config(includedir ${module} --variable=includedir)
  if(NOT modversion STREQUAL VERSION)
    fail("${module}: pkg-config says version ${modversion}, the project version is ${VERSION}")
  endif()
  file(REAL_PATH "${includedir}" real_includedir)
  file(REAL_PATH "${moved}/include" expected_includedir)
  if(NOT real_includedir STREQUAL expected_includedir)
    fail("${module}: includedir is ${includedir}, expected the moved prefix's include directory")
  endif()
  if(NOT cflags MATCHES "-I[^ ]*/moved/elsewhere/")
    fail("${module}: --cflags does not name the moved prefix: ${cflags}")
  endif()
  foreach(regex IN LISTS library_regexes)
    if(NOT libs MATCHES "${regex}")
      fail("${module}: --libs does not match ${regex}: ${libs}")
    endif()
  endforeach()
  if(failures GREATER 0)
    message(FATAL_ERROR "${failures} check(s) failed")
  endif()

  separate_arguments(cflags_list UNIX_COMMAND "${cflags}")
  separate_arguments(libs_list UNIX_COMMAND "${libs}")
  cmake_path(GET main STEM program)
  set(program "${WORK_DIR}/${program}")
  run("${CXX_COMPILER}" -std=c++20 ${cflags_list} "${main}" ${libs_list} -o "${program}")
  execute_process(COMMAND "${program}" "${WORK_DIR}" RESULT_VARIABLE result OUTPUT_VARIABLE output
                  ERROR_VARIABLE output)
  message(STATUS "${program}: exit ${result}: ${output}")
  if(NOT result EQUAL 0 OR NOT output STREQUAL "${expected_output}\n")
    message(FATAL_ERROR "the program built with pkg-config's flags for ${module} failed, or its "
                        "headers' version is not ${VERSION}")
  endif()
endfunction()

check_module(tegata "(^| )-lcrypto( |$)" "${CMAKE_CURRENT_LIST_DIR}/pkg_config_main.cpp"
             "tegata ${VERSION} ok")

# check_optional(<built> <module> <library regexes> <main.cpp>): an optional store's .pc (module
# tegata-X for target tegata::X): installed and checked as above when this build has the target,
# absent otherwise.
function(check_optional built module library_regexes main)
  string(REPLACE "tegata-" "tegata::" target "${module}")
  if(built)
    if(NOT EXISTS "${pc_dir}/${module}.pc")
      message(FATAL_ERROR "this build has ${target}, but no ${module}.pc was installed")
    endif()
    check_module(${module} "${library_regexes}" "${main}" "${module} ${VERSION} ok")
  elseif(EXISTS "${pc_dir}/${module}.pc")
    message(FATAL_ERROR "${module}.pc was installed, but this build has no ${target}")
  endif()
endfunction()

check_optional("${REDIS}" tegata-redis
               "(^| )-lcrypto( |$);(^| )-lhiredis( |$)|/libhiredis[^/ ]*( |$)"
               "${CMAKE_CURRENT_LIST_DIR}/pkg_config_redis_main.cpp")
check_optional("${SQLITE}" tegata-sqlite
               "(^| )-lcrypto( |$);(^| )-lsqlite3( |$)|/libsqlite3[^/ ]*( |$)"
               "${CMAKE_CURRENT_LIST_DIR}/pkg_config_sqlite_main.cpp")
message(STATUS "packaging.pkg_config: ok")
