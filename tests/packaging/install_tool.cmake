# cmake -P driver for packaging.install_tool: `cmake --install` of this build installs the tegata
# tool exactly when it was built. Installs BUILD_DIR into WORK_DIR/prefix, then:
#  - TOOL exists (built): bin/tegata is installed and `bin/tegata --version` prints the version;
#  - TOOL does not exist: the install succeeds, without bin/tegata.
#
# Required: -DBUILD_DIR=<tegata build> -DTOOL=<the tool's path in it> -DWORK_DIR=<scratch>
# Optional: -DCONFIG=<configuration, for multi-config generators>
cmake_minimum_required(VERSION 3.25)

set(driver install_tool.cmake)
include("${CMAKE_CURRENT_LIST_DIR}/../support/driver.cmake")
tegata_require(BUILD_DIR TOOL WORK_DIR)

file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
set(config_args "")
if(CONFIG)
  set(config_args --config "${CONFIG}")
endif()
run("${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}" ${config_args})

cmake_path(GET TOOL FILENAME name)
set(installed "${prefix}/bin/${name}")
if(EXISTS "${TOOL}")
  if(NOT EXISTS "${installed}")
    message(FATAL_ERROR "the tool was built (${TOOL}) but not installed as ${installed}")
  endif()
  execute_process(COMMAND "${installed}" --version RESULT_VARIABLE result OUTPUT_VARIABLE output
                  ERROR_VARIABLE output)
  if(NOT result EQUAL 0 OR NOT output MATCHES "^tegata [0-9]+\\.[0-9]+\\.[0-9]+")
    message(FATAL_ERROR "the installed tool does not run: exit ${result}: ${output}")
  endif()
  message(STATUS "built and installed: ${installed}: ${output}")
elseif(EXISTS "${installed}")
  message(FATAL_ERROR "the tool was not built but ${installed} was installed")
else()
  message(STATUS "not built, and not installed: ok")
endif()
