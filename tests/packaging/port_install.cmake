# cmake -P driver for packaging.vcpkg_port: the overlay port installs what `cmake --install` does.
#
# vcpkg itself is not needed (nor the network): this script defines the vcpkg helpers the
# portfile calls, each doing what vcpkg does for a header-only release-only port, and then runs
# ports/tegata/portfile.cmake from a local checkout (TEGATA_SOURCE_PATH, the documented offline
# path). A helper the emulation does not know stops the test, so a portfile that starts to depend
# on more of vcpkg is noticed. Then:
#  1. the port's files equal a plain `cmake --install` of the same source, with vcpkg's layout
#     changes only: the CMake package in share/tegata instead of lib/cmake/tegata, the license
#     as share/tegata/copyright instead of share/doc/tegata/LICENSE, and share/tegata/usage added;
#     headers and the pkg-config file byte for byte;
#  2. nothing in the port refers to the directory it was built in;
#  3. the find_package consumer (tests/consumers/find_package) builds and runs against the port.
#
# Required: -DSOURCE_DIR=<checkout> -DWORK_DIR=<scratch> -DGENERATOR=<generator>
#           -DCXX_COMPILER=<path>
# Optional: -DMAKE_PROGRAM=<path> -DPASS_ARGS=<-D arguments for every configure, '|'-separated>
cmake_minimum_required(VERSION 3.25)

set(driver port_install.cmake)
include("${CMAKE_CURRENT_LIST_DIR}/../support/driver.cmake")
tegata_require(SOURCE_DIR WORK_DIR GENERATOR CXX_COMPILER)

tegata_configure_args(Release)

file(REMOVE_RECURSE "${WORK_DIR}")

# --- 1. The reference: a plain install ---------------------------------------------------------
set(plain "${WORK_DIR}/plain")
tegata_install("${SOURCE_DIR}" "${WORK_DIR}/plain-build" "${plain}")

# --- 2. The port, through an emulation of the vcpkg helpers it calls ---------------------------
set(PORT tegata)
file(READ "${SOURCE_DIR}/ports/tegata/vcpkg.json" port_manifest)
string(JSON VERSION GET "${port_manifest}" version)
set(CURRENT_PACKAGES_DIR "${WORK_DIR}/packages/tegata_x64-linux")
set(CURRENT_BUILDTREES_DIR "${WORK_DIR}/buildtrees/tegata")
set(TARGET_TRIPLET x64-linux)
set(ENV{TEGATA_SOURCE_PATH} "${SOURCE_DIR}")
set(emulated_build_dir "${CURRENT_BUILDTREES_DIR}/${TARGET_TRIPLET}-rel")

function(vcpkg_from_github)
  message(FATAL_ERROR "the portfile downloads although TEGATA_SOURCE_PATH is set")
endfunction()

function(vcpkg_cmake_configure)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "SOURCE_PATH" "OPTIONS;OPTIONS_RELEASE")
  if(NOT VCPKG_BUILD_TYPE STREQUAL "release")
    message(FATAL_ERROR "a header-only port sets VCPKG_BUILD_TYPE to release before configuring")
  endif()
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "vcpkg_cmake_configure: unexpected arguments ${arg_UNPARSED_ARGUMENTS}")
  endif()
  run("${CMAKE_COMMAND}" -S "${arg_SOURCE_PATH}" -B "${emulated_build_dir}" ${configure_args}
      "-DCMAKE_INSTALL_PREFIX=${CURRENT_PACKAGES_DIR}" ${arg_OPTIONS} ${arg_OPTIONS_RELEASE})
endfunction()

function(vcpkg_cmake_install)
  if(ARGN)
    message(FATAL_ERROR "vcpkg_cmake_install: arguments not emulated: ${ARGN}")
  endif()
  run("${CMAKE_COMMAND}" --install "${emulated_build_dir}")
endfunction()

# vcpkg moves CONFIG_PATH to share/<package> and rewrites the relative paths; the port installs
# straight into share/tegata, so only that case is emulated.
function(vcpkg_cmake_config_fixup)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "CONFIG_PATH;PACKAGE_NAME" "")
  if(NOT arg_PACKAGE_NAME)
    set(arg_PACKAGE_NAME "${PORT}")
  endif()
  if(NOT arg_CONFIG_PATH STREQUAL "share/${arg_PACKAGE_NAME}")
    message(FATAL_ERROR "emulated vcpkg_cmake_config_fixup: CONFIG_PATH must be "
                        "share/${arg_PACKAGE_NAME}, not '${arg_CONFIG_PATH}'")
  endif()
  if(NOT EXISTS "${CURRENT_PACKAGES_DIR}/${arg_CONFIG_PATH}/${arg_PACKAGE_NAME}Config.cmake")
    message(FATAL_ERROR "no ${arg_PACKAGE_NAME}Config.cmake in ${arg_CONFIG_PATH}")
  endif()
endfunction()

# vcpkg checks .pc files and rewrites an absolute prefix; tegata's is relative already.
function(vcpkg_fixup_pkgconfig)
  file(GLOB_RECURSE pc_files "${CURRENT_PACKAGES_DIR}/*.pc")
  foreach(pc IN LISTS pc_files)
    file(STRINGS "${pc}" prefix_line REGEX "^prefix=")
    if(NOT prefix_line MATCHES "^prefix=\\\${pcfiledir}/")
      message(FATAL_ERROR "${pc}: the prefix is not relative to the .pc file: ${prefix_line}")
    endif()
  endforeach()
endfunction()

function(vcpkg_install_copyright)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "" "FILE_LIST")
  set(text "")
  foreach(file IN LISTS arg_FILE_LIST)
    file(READ "${file}" content)
    string(APPEND text "${content}")
  endforeach()
  file(WRITE "${CURRENT_PACKAGES_DIR}/share/${PORT}/copyright" "${text}")
endfunction()

include("${SOURCE_DIR}/ports/tegata/portfile.cmake")

# --- 3. Compare ---------------------------------------------------------------------------------
set(failures 0)
macro(fail text)
  message(SEND_ERROR "FAIL: ${text}")
  math(EXPR failures "${failures} + 1")
endmacro()

file(GLOB_RECURSE plain_files RELATIVE "${plain}" "${plain}/*")
file(GLOB_RECURSE port_files RELATIVE "${CURRENT_PACKAGES_DIR}" "${CURRENT_PACKAGES_DIR}/*")
list(SORT port_files)

file(READ "${WORK_DIR}/plain-build/CMakeCache.txt" plain_cache)
string(REGEX MATCH "TEGATA_INSTALL_CMAKEDIR:STRING=([^\n]*)" _ "${plain_cache}")
set(plain_cmake_dir "${CMAKE_MATCH_1}")

set(expected "")
foreach(file IN LISTS plain_files)
  if(file MATCHES "^${plain_cmake_dir}/(.*)$")
    list(APPEND expected "share/tegata/${CMAKE_MATCH_1}")
  elseif(file STREQUAL "share/doc/tegata/LICENSE")
    list(APPEND expected "share/tegata/copyright")
  else()
    list(APPEND expected "${file}")
    if(NOT file MATCHES "\\.cmake$" AND EXISTS "${CURRENT_PACKAGES_DIR}/${file}")
      file(SHA256 "${plain}/${file}" a)
      file(SHA256 "${CURRENT_PACKAGES_DIR}/${file}" b)
      if(NOT a STREQUAL b)
        fail("${file} differs between the port and cmake --install")
      endif()
    endif()
  endif()
endforeach()
list(APPEND expected "share/tegata/usage")
list(SORT expected)

foreach(file IN LISTS expected)
  if(NOT file IN_LIST port_files)
    fail("the port does not install ${file}")
  endif()
endforeach()
foreach(file IN LISTS port_files)
  if(NOT file IN_LIST expected)
    fail("the port installs ${file}, which cmake --install does not")
  endif()
endforeach()
list(LENGTH port_files count)
message(STATUS "the port installs ${count} files")
foreach(required IN ITEMS include/tegata/tegata.hpp include/tegata/version.hpp
                          share/tegata/tegataConfig.cmake share/tegata/tegataConfigVersion.cmake
                          share/tegata/tegataTargets.cmake share/pkgconfig/tegata.pc)
  if(NOT required IN_LIST port_files)
    fail("the port lacks ${required}")
  endif()
endforeach()

file(READ "${SOURCE_DIR}/LICENSE" license)
file(READ "${CURRENT_PACKAGES_DIR}/share/tegata/copyright" copyright)
if(NOT license STREQUAL copyright)
  fail("share/tegata/copyright is not the LICENSE")
endif()

foreach(file IN LISTS port_files)
  file(READ "${CURRENT_PACKAGES_DIR}/${file}" content)
  string(FIND "${content}" "${WORK_DIR}" at)
  if(at GREATER_EQUAL 0)
    fail("${file} refers to the directory it was built in")
  endif()
endforeach()

if(failures GREATER 0)
  message(FATAL_ERROR "${failures} check(s) failed")
endif()

# --- 4. find_package(tegata) from the port's files ------------------------------------------
# The port installs without building: no tegata::compiled, and the package must load without it.
set(consumer "${SOURCE_DIR}/tests/consumers/find_package")
run("${CMAKE_COMMAND}" -S "${consumer}" -B "${WORK_DIR}/consumer" ${configure_args}
    "-DCMAKE_PREFIX_PATH=${CURRENT_PACKAGES_DIR}"
    "-DTEGATA_EXPECTED_PREFIX=${CURRENT_PACKAGES_DIR}"
    -DTEGATA_EXPECT_COMPILED=OFF)
run("${CMAKE_COMMAND}" --build "${WORK_DIR}/consumer" --parallel 2)
execute_process(COMMAND "${WORK_DIR}/consumer/consumer" RESULT_VARIABLE result
                OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(NOT result EQUAL 0 OR NOT output MATCHES "^ok\r?\n$")
  message(FATAL_ERROR "the find_package consumer failed against the port: ${result} ${output}")
endif()
message(STATUS "packaging.vcpkg_port: ok")
