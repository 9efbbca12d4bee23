# What the cmake -P drivers of tests/consumers and tests/packaging share: include() it after
# setting the driver's name in `driver`.
#
#   tegata_require(VAR...)           stops with a message naming each missing -DVAR=...
#   tegata_configure_args(TYPE)      sets configure_args: generator, compiler, build type, the
#                                    make program and PASS_ARGS ('|'-separated -D arguments)
#   run(COMMAND...)                  runs a command, echoed; any failure stops the driver
#   tegata_install(SOURCE BUILD PREFIX)
#                                    configures tegata alone (no tests, examples, tools, docs,
#                                    benchmarks) and installs it into PREFIX
include_guard(GLOBAL)

macro(tegata_require)
  foreach(var IN ITEMS ${ARGN})
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
      message(FATAL_ERROR "${driver}: -D${var}=... is required")
    endif()
  endforeach()
endmacro()

macro(tegata_configure_args build_type)
  set(configure_args -G "${GENERATOR}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
                     "-DCMAKE_BUILD_TYPE=${build_type}")
  if(MAKE_PROGRAM)
    list(APPEND configure_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
  endif()
  if(PASS_ARGS)
    string(REPLACE "|" ";" pass_args "${PASS_ARGS}")
    list(APPEND configure_args ${pass_args})
  endif()
endmacro()

function(run)
  execute_process(COMMAND ${ARGN} COMMAND_ECHO STDOUT COMMAND_ERROR_IS_FATAL ANY)
endfunction()

function(tegata_install source build prefix)
  run("${CMAKE_COMMAND}" -S "${source}" -B "${build}" ${configure_args}
      -DTEGATA_BUILD_TESTS=OFF -DTEGATA_BUILD_EXAMPLES=OFF -DTEGATA_BUILD_BENCHMARKS=OFF
      -DTEGATA_BUILD_TOOLS=OFF -DTEGATA_BUILD_DOCS=OFF -DTEGATA_INSTALL=ON)
  run("${CMAKE_COMMAND}" --install "${build}" --prefix "${prefix}")
endfunction()
