# What the cmake -P drivers of tests/consumers and tests/packaging share: include() it after
# setting the driver's name in `driver`.
#
#   tegata_require(VAR...)           stops with a message naming each missing -DVAR=...
#   tegata_configure_args(TYPE)      sets configure_args: generator, compiler, build type, the
#                                    make program and PASS_ARGS ('|'-separated -D arguments)
#   run(COMMAND...)                  runs a command, echoed; any failure stops the driver
#   tegata_install(SOURCE BUILD PREFIX [TARGET...])
#                                    configures tegata alone (no tests, examples, tools, docs,
#                                    benchmarks), builds the TARGETs given (none: header-only)
#                                    and installs it into PREFIX
#   tegata_copy_source(SOURCE DEST)  copies the tegata checkout SOURCE to DEST as it is now,
#                                    as a commit of it would hold it: with git (the variable GIT,
#                                    or git on PATH) its tracked and untracked files, not the
#                                    ignored ones (build/, node_modules/); without git, or
#                                    outside a checkout, everything but build/, .git and
#                                    node_modules/
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
  foreach(target IN LISTS ARGN)
    run("${CMAKE_COMMAND}" --build "${build}" --target "${target}" --parallel 2)
  endforeach()
  run("${CMAKE_COMMAND}" --install "${build}" --prefix "${prefix}")
endfunction()

function(tegata_copy_source source dest)
  if(GIT)
    set(git_program "${GIT}")
  else()
    find_program(git_program git)
  endif()
  set(result 1)
  if(git_program AND EXISTS "${source}/.git")
    execute_process(COMMAND "${git_program}" -c core.quotePath=false ls-files --cached --others
                            --exclude-standard
                    WORKING_DIRECTORY "${source}" RESULT_VARIABLE result OUTPUT_VARIABLE listed
                    ERROR_QUIET)
  endif()
  file(MAKE_DIRECTORY "${dest}")
  if(result EQUAL 0)
    string(REPLACE "\n" ";" listed "${listed}")
    foreach(file IN LISTS listed)
      # A deleted file is still listed until its deletion is staged.
      if(file AND EXISTS "${source}/${file}" AND NOT IS_DIRECTORY "${source}/${file}")
        cmake_path(GET file PARENT_PATH dir)
        file(MAKE_DIRECTORY "${dest}/${dir}")
        file(COPY_FILE "${source}/${file}" "${dest}/${file}")
      endif()
    endforeach()
  else()
    file(GLOB entries LIST_DIRECTORIES true RELATIVE "${source}" "${source}/*" "${source}/.*")
    list(REMOVE_ITEM entries build .git)
    foreach(entry IN LISTS entries)
      file(COPY "${source}/${entry}" DESTINATION "${dest}" PATTERN node_modules EXCLUDE)
    endforeach()
  endif()
  if(NOT EXISTS "${dest}/CMakeLists.txt" OR NOT EXISTS "${dest}/include/tegata/tegata.hpp")
    message(FATAL_ERROR "${driver}: copying ${source} to ${dest} left no tegata source tree")
  endif()
endfunction()
