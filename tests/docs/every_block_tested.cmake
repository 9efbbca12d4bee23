# cmake -P driver for docs.every_block_tested: every fenced code block of README.md, docs/*.md and
# examples/*/README.md has a test, so that none can drift from the library unnoticed.
#
# A block passes when the lines right above its opening fence (a run of `<!-- ... -->` lines)
#   - hold `<!-- snippet: NAME -->` and a test's CMake code extracts NAME from that file with
#     tegata_doc_snippet() (tests/support/doc_snippet.cmake records each extraction in LIST);
#     the test may still skip where its prerequisites are missing, which CI does not allow; or
#   - hold `<!-- not-run: REASON -->`, for what truly cannot run in CI (REASON says why, and what
#     is checked instead). Every such block is printed, so the list stays in sight: keep it tiny.
# Two languages are not code and pass without a marker: `text`, for output samples and listings
# (a directory tree, headers a program prints; never a command: a command is `sh`), and
# `mermaid`, diagrams the Markdown viewer draws. A block without a language fails: say what it is.
# Anything else fails, naming file:line and what to do.
#
# Required: -DSOURCE_DIR=<checkout> -DLIST=<the list of extracted snippets, one file:name a line>
cmake_minimum_required(VERSION 3.25)

foreach(var IN ITEMS SOURCE_DIR LIST)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "every_block_tested.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT EXISTS "${LIST}")
  message(FATAL_ERROR "every_block_tested.cmake: ${LIST} does not exist (configure again)")
endif()
file(STRINGS "${LIST}" extracted)

file(GLOB docs RELATIVE "${SOURCE_DIR}" "${SOURCE_DIR}/docs/*.md")
file(GLOB example_readmes RELATIVE "${SOURCE_DIR}" "${SOURCE_DIR}/examples/*/README.md")
set(markdown_files README.md ${docs} ${example_readmes})

set(failures 0)
set(blocks 0)
set(not_run "")
macro(fail)  # fail(<text>...): the pieces of one message
  string(CONCAT fail_text ${ARGN})
  message(SEND_ERROR "FAIL: ${fail_text}")
  math(EXPR failures "${failures} + 1")
endmacro()

foreach(markdown IN LISTS markdown_files)
  file(READ "${SOURCE_DIR}/${markdown}" text)
  # One list element a line. '\', ';', '[' and ']' would split or join elements: they matter
  # nowhere in a fence or a marker, so they become other characters.
  string(REPLACE "\\" "/" text "${text}")
  string(REPLACE ";" "," text "${text}")
  string(REPLACE "[" "(" text "${text}")
  string(REPLACE "]" ")" text "${text}")
  string(REPLACE "\n" ";" lines "${text}")
  set(number 0)
  set(inside FALSE)
  set(markers "")  # the <!-- ... --> lines right above the current line
  set(names "")    # the snippet names seen in this file: tegata_doc_snippet() finds the first only
  foreach(line IN LISTS lines)
    math(EXPR number "${number} + 1")
    if(inside)
      if(line MATCHES "^[ ]*${fence}[`~]*[ \t]*$")
        set(inside FALSE)
      endif()
      continue()
    endif()
    if(line MATCHES "^[ ]*(```+|~~~+)[ \t]*([^ \t`]*)")
      set(fence "${CMAKE_MATCH_1}")
      set(lang "${CMAKE_MATCH_2}")
      set(inside TRUE)
      math(EXPR blocks "${blocks} + 1")
      set(where "${markdown}:${number}")
      set(name "")
      set(reason "")
      foreach(marker IN LISTS markers)
        if(marker MATCHES "^<!-- snippet: ([^ ]+) -->$")
          set(name "${CMAKE_MATCH_1}")
        elseif(marker MATCHES "^<!-- not-run: (.*[^ ]) -->$")
          set(reason "${CMAKE_MATCH_1}")
        endif()
      endforeach()
      if(reason)
        list(APPEND not_run "  ${where} (${lang}): ${reason}")
      elseif(name)
        if(name IN_LIST names)
          fail("${where}: a second block named ${name} in this file: tegata_doc_snippet() "
               "extracts the first one only")
        endif()
        list(APPEND names "${name}")
        if(NOT "${markdown}:${name}" IN_LIST extracted)
          fail("${where}: <!-- snippet: ${name} --> but no test extracts it: extract it with "
               "tegata_doc_snippet(<var> <source>/${markdown} ${name} ${lang}) in the CMake code "
               "of the test that runs it")
        endif()
      elseif(lang STREQUAL "text" OR lang STREQUAL "mermaid")
        # An output sample, a listing or a diagram: not code (see the top of this file).
      elseif(lang STREQUAL "")
        fail("${where}: a block without a language: ```sh, ```cpp, ```cmake ... for code (then "
             "a test for it), ```text for output or a listing")
      else()
        fail("${where}: a ${lang} block without a test: put <!-- snippet: NAME --> on the line "
             "above it and extract NAME with tegata_doc_snippet() in the test that runs it (or, "
             "if it truly cannot run in CI, <!-- not-run: why, and what is checked instead -->)")
      endif()
      set(markers "")
      continue()
    endif()
    if(line MATCHES "^<!-- .* -->$")
      list(APPEND markers "${line}")
    else()
      set(markers "")
    endif()
  endforeach()
  if(inside)
    fail("${markdown}: the block opened with ${fence} does not end")
  endif()
endforeach()

list(LENGTH markdown_files files)
if(not_run)
  list(JOIN not_run "\n" not_run)
  message(STATUS "docs.every_block_tested: blocks that are not run, and why:\n${not_run}")
endif()
if(failures GREATER 0)
  message(FATAL_ERROR "${failures} of ${blocks} blocks in ${files} files have no test")
endif()
message(STATUS "docs.every_block_tested: ${blocks} blocks in ${files} files, each with a test, "
               "an exemption by language (text, mermaid) or a reason it is not run")
