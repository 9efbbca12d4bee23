# tegata_doc_snippet(<out var> <markdown file> <name> [<lang>])
#
# The documentation's code is tested as printed: each tested block follows a line
# `<!-- snippet: NAME -->` in its Markdown file, and opens with ```<lang> (default cpp). This
# writes the block's text to <name>.<ext> in the calling directory's binary dir (ext: cpp for
# cpp, cmake for cmake, sh for sh, txt for text: an output sample a test compares), only when it
# changed, so nothing rebuilds needlessly, makes CMake configure again whenever the Markdown file
# changes, and returns the file's path.
# A missing marker, or a block without its closing fence, stops the configure.
#
# Each extraction is also recorded as `<markdown file, relative to tegata's source>:<name>`; at
# the end of the configure the list is written to <build>/tests/doc_snippets.txt, which
# docs.every_block_tested (tests/docs/every_block_tested.cmake) reads: a block counts as tested
# only when a test's CMake code extracts it. Call it whether or not the test's prerequisites were
# found (the test then skips, or fails in CI); the list says which blocks have a test at all.
include_guard(GLOBAL)

# tegata_doc_snippet_write_list(<file>): writes the list, when the top-level CMakeLists.txt has
# been processed (examples/ is configured after tests/, so a deferred call sees every extraction),
# and only when it changed.
function(tegata_doc_snippet_write_list file)
  get_property(entries GLOBAL PROPERTY TEGATA_DOC_SNIPPETS)
  list(REMOVE_DUPLICATES entries)
  list(SORT entries)
  list(JOIN entries "\n" text)
  file(CONFIGURE OUTPUT "${file}" CONTENT "${text}\n" @ONLY)
endfunction()
# Its path, for the test: get_property(<var> GLOBAL PROPERTY TEGATA_DOC_SNIPPET_LIST).
set_property(GLOBAL PROPERTY TEGATA_DOC_SNIPPET_LIST "${PROJECT_BINARY_DIR}/tests/doc_snippets.txt")
cmake_language(DEFER DIRECTORY "${PROJECT_SOURCE_DIR}"
               CALL tegata_doc_snippet_write_list "${PROJECT_BINARY_DIR}/tests/doc_snippets.txt")

function(tegata_doc_snippet out markdown name)
  set(lang cpp)
  if(ARGC GREATER 3)
    set(lang "${ARGV3}")
  endif()
  if(lang STREQUAL "cpp")
    set(ext cpp)
  elseif(lang STREQUAL "cmake")
    set(ext cmake)
  elseif(lang STREQUAL "sh")
    set(ext sh)
  elseif(lang STREQUAL "text")
    set(ext txt)
  elseif(lang STREQUAL "js")
    set(ext mjs)
  else()
    message(FATAL_ERROR "tegata_doc_snippet: no file extension for blocks in '${lang}'")
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${markdown}")
  file(READ "${markdown}" text)
  set(opening "<!-- snippet: ${name} -->\n```${lang}\n")
  string(FIND "${text}" "${opening}" at)
  if(at LESS 0)
    message(FATAL_ERROR "tegata: ${markdown} has no ${lang} block after <!-- snippet: ${name} -->")
  endif()
  string(LENGTH "${opening}" marker)
  math(EXPR at "${at} + ${marker}")
  string(SUBSTRING "${text}" ${at} -1 text)
  string(FIND "${text}" "\n```\n" end)
  if(end LESS 0)
    message(FATAL_ERROR "tegata: the snippet ${name} in ${markdown} does not end")
  endif()
  math(EXPR end "${end} + 1")
  string(SUBSTRING "${text}" 0 ${end} code)
  set(path "${CMAKE_CURRENT_BINARY_DIR}/${name}.${ext}")
  set(old "")
  if(EXISTS "${path}")
    file(READ "${path}" old)
  endif()
  if(NOT old STREQUAL code)
    file(WRITE "${path}" "${code}")
  endif()
  file(RELATIVE_PATH relative "${PROJECT_SOURCE_DIR}" "${markdown}")
  set_property(GLOBAL APPEND PROPERTY TEGATA_DOC_SNIPPETS "${relative}:${name}")
  set(${out} "${path}" PARENT_SCOPE)
endfunction()
