# cmake -P driver for docs.build_options: every tegata build option is in README.md's table.
# The options are the cache entries tegata's CMake files declare with option(TEGATA_...) or
# set(TEGATA_... CACHE ...), anywhere in the source except tests/consumers (whose projects are not
# tegata); find_program() results (tool locations) are not options. A row is a table line that
# starts with "| `NAME`". Fails naming each undocumented option, and each documented name that is
# no option any more.
#
# Required: -DSOURCE_DIR=<checkout>
cmake_minimum_required(VERSION 3.25)
if(NOT SOURCE_DIR)
  message(FATAL_ERROR "build_options.cmake: -DSOURCE_DIR=... is required")
endif()

file(GLOB_RECURSE cmake_files "${SOURCE_DIR}/CMakeLists.txt" "${SOURCE_DIR}/*/CMakeLists.txt"
     "${SOURCE_DIR}/*.cmake")
set(options "")
foreach(file IN LISTS cmake_files)
  file(RELATIVE_PATH relative "${SOURCE_DIR}" "${file}")
  if(relative MATCHES "^(build|tests/consumers)/" OR relative MATCHES "(^|/)node_modules/")
    continue()
  endif()
  file(READ "${file}" text)
  string(REPLACE ";" "," text "${text}")  # a CMake list in a default value is not a list here
  string(REGEX MATCHALL "option\\((TEGATA_[A-Z0-9_]+)" found "${text}")
  string(REGEX MATCHALL "set\\((TEGATA_[A-Z0-9_]+)[^)]*[ \n]CACHE[ \n]" found_set "${text}")
  foreach(match IN LISTS found found_set)
    string(REGEX REPLACE "^(option|set)\\((TEGATA_[A-Z0-9_]+).*$" "\\2" name "${match}")
    list(APPEND options "${name}")
  endforeach()
endforeach()
list(REMOVE_DUPLICATES options)
list(SORT options)

file(STRINGS "${SOURCE_DIR}/README.md" rows REGEX "^\\| `TEGATA_[A-Z0-9_]+`")
set(documented "")
foreach(row IN LISTS rows)
  string(REGEX REPLACE "^\\| `(TEGATA_[A-Z0-9_]+)`.*$" "\\1" name "${row}")
  list(APPEND documented "${name}")
endforeach()

set(failures 0)
foreach(name IN LISTS options)
  if(NOT name IN_LIST documented)
    message(SEND_ERROR "FAIL: ${name} is a build option but has no row in README.md's table")
    math(EXPR failures "${failures} + 1")
  endif()
endforeach()
foreach(name IN LISTS documented)
  if(NOT name IN_LIST options)
    message(SEND_ERROR "FAIL: README.md documents ${name}, which no CMake file declares")
    math(EXPR failures "${failures} + 1")
  endif()
endforeach()
if(failures GREATER 0)
  message(FATAL_ERROR "${failures} check(s) failed")
endif()
list(JOIN options ", " text)
message(STATUS "docs.build_options: all documented: ${text}")
