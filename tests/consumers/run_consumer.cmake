# cmake -P driver for one consumer test. For find_package it first configures tegata with its
# tests off and installs it into a scratch prefix; then it configures, builds and runs the
# consumer project, which must print exactly "ok".
# Every step starts from an empty WORK_DIR and any failure stops the test with its output.
#
# Required: -DCONSUMER=<a directory here: add_subdirectory, fetchcontent, ...> -DTEGATA_SOURCE_DIR=<path>
#           -DWORK_DIR=<scratch dir> -DGENERATOR=<cmake generator> -DCXX_COMPILER=<path>
# Optional: -DBUILD_TYPE=<config> -DMAKE_PROGRAM=<path>
#           -DPASS_ARGS=<-D arguments for every configure, separated by '|'>, e.g. the
#            dependency locations the calling build found, so consumers use the same ones
#           -DSNIPPET=<README.md's FetchContent block>, required by fetchcontent
#           -DGIT=<path of git>, for fetchcontent (default: found on PATH)
#
# fetchcontent runs the README's block as printed, which clones ../tegata at the branch main: the
# consumer is copied to WORK_DIR/src/fetchcontent, next to WORK_DIR/src/tegata, a new git
# repository holding a copy of TEGATA_SOURCE_DIR as it is now (tegata_copy_source) committed on
# main.
cmake_minimum_required(VERSION 3.25)

set(driver run_consumer.cmake)
include("${CMAKE_CURRENT_LIST_DIR}/../support/driver.cmake")
tegata_require(CONSUMER TEGATA_SOURCE_DIR WORK_DIR GENERATOR CXX_COMPILER)
if(NOT BUILD_TYPE)
  set(BUILD_TYPE Release)
endif()

set(consumer_source "${CMAKE_CURRENT_LIST_DIR}/${CONSUMER}")
if(NOT EXISTS "${consumer_source}/CMakeLists.txt")
  message(FATAL_ERROR "run_consumer.cmake: no consumer project '${CONSUMER}'")
endif()

tegata_configure_args("${BUILD_TYPE}")

file(REMOVE_RECURSE "${WORK_DIR}")

set(consumer_args "-DTEGATA_SOURCE_DIR=${TEGATA_SOURCE_DIR}")
if(CONSUMER STREQUAL "fetchcontent")
  tegata_require(SNIPPET)
  if(NOT GIT)
    find_program(GIT git)
  endif()
  if(NOT GIT)
    message(FATAL_ERROR "run_consumer.cmake: the fetchcontent consumer needs git "
                        "(Debian: apt-get install git)")
  endif()
  set(src "${WORK_DIR}/src")
  file(COPY "${consumer_source}" DESTINATION "${src}")
  file(COPY "${CMAKE_CURRENT_LIST_DIR}/main.cpp" "${CMAKE_CURRENT_LIST_DIR}/subproject_checks.cmake"
       DESTINATION "${src}")
  set(consumer_source "${src}/${CONSUMER}")

  set(clone "${src}/tegata")
  tegata_copy_source("${TEGATA_SOURCE_DIR}" "${clone}")
  set(git "${GIT}" -c user.name=tegata-test -c user.email=tegata-test@example.invalid
          -c commit.gpgsign=false -c core.hooksPath=/dev/null)
  run(${git} -C "${clone}" init -q -b main)
  run(${git} -C "${clone}" add -A)
  run(${git} -C "${clone}" commit -q -m "the source under test")

  set(consumer_args "-DTEGATA_README_SNIPPET=${SNIPPET}")
elseif(CONSUMER STREQUAL "find_package")
  set(prefix "${WORK_DIR}/prefix")
  # With tegata::compiled built, so that the consumer links the installed library too.
  tegata_install("${TEGATA_SOURCE_DIR}" "${WORK_DIR}/tegata-build" "${prefix}" tegata_compiled)
  set(consumer_args "-DCMAKE_PREFIX_PATH=${prefix}" "-DTEGATA_EXPECTED_PREFIX=${prefix}"
                    -DTEGATA_EXPECT_COMPILED=ON)
endif()

run("${CMAKE_COMMAND}" -S "${consumer_source}" -B "${WORK_DIR}/build" ${configure_args}
    ${consumer_args})
run("${CMAKE_COMMAND}" --build "${WORK_DIR}/build" --config "${BUILD_TYPE}" --parallel 2)

# Single-config generators put the executable in the build dir, multi-config ones in <config>/.
foreach(candidate IN ITEMS "${WORK_DIR}/build/consumer" "${WORK_DIR}/build/consumer.exe"
                           "${WORK_DIR}/build/${BUILD_TYPE}/consumer"
                           "${WORK_DIR}/build/${BUILD_TYPE}/consumer.exe")
  if(EXISTS "${candidate}" AND NOT IS_DIRECTORY "${candidate}")
    set(executable "${candidate}")
    break()
  endif()
endforeach()
if(NOT executable)
  message(FATAL_ERROR "run_consumer.cmake: the consumer executable was not built")
endif()
execute_process(COMMAND "${executable}" RESULT_VARIABLE result OUTPUT_VARIABLE output
                ERROR_VARIABLE output)
message(STATUS "${executable}: exit ${result}\n${output}")
if(NOT result EQUAL 0 OR NOT output MATCHES "^ok\r?\n$")
  message(FATAL_ERROR "run_consumer.cmake: the ${CONSUMER} consumer failed")
endif()
