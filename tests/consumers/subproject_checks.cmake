# Included by the add_subdirectory and fetchcontent consumers after tegata was added:
# as a subproject, tegata must add its library and nothing else.
if(NOT TARGET tegata::tegata)
  message(FATAL_ERROR "tegata::tegata is not defined")
endif()
foreach(option IN ITEMS TEGATA_BUILD_TESTS TEGATA_BUILD_EXAMPLES TEGATA_BUILD_BENCHMARKS TEGATA_BUILD_TOOLS
                        TEGATA_INSTALL)
  if(${option})
    message(FATAL_ERROR "${option} is ON although tegata is not the top-level project")
  endif()
endforeach()
# Its headers are SYSTEM headers here, as an installed package's are: the parent's warning flags
# are for the parent's code.
get_target_property(tegata_system tegata SYSTEM)
if(NOT tegata_system)
  message(FATAL_ERROR "tegata's SYSTEM property is '${tegata_system}' in a parent project")
endif()
# tegata::compiled exists, but is built only for a target that links it.
get_target_property(compiled_excluded tegata_compiled EXCLUDE_FROM_ALL)
if(NOT compiled_excluded)
  message(FATAL_ERROR "tegata_compiled is built by 'all' in a parent project")
endif()
if(TARGET tegata_tests)
  message(FATAL_ERROR "tegata's tests were added although tegata is not the top-level project")
endif()
