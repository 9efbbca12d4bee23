# TegataRedis.cmake - the optional tegata::redis target (include/tegata/store/redis.hpp): tegata
# plus hiredis. tegata::tegata never depends on it; a build without hiredis simply has no
# tegata::redis.
#
# Used in two places:
#  - tegata's top-level CMakeLists.txt, which defines the INTERFACE target tegata_redis (alias
#    tegata::redis, exported as tegata::redis) when hiredis is found;
#  - the installed tegataConfig.cmake, which only re-creates tegata::hiredis before it loads the
#    exported tegata::redis.
#
# hiredis is found with pkg-config (hiredis.pc) or, failing that, find_path/find_library, and
# becomes the imported target tegata::hiredis. When hiredis_ssl (hiredis >= 1.0 built with TLS)
# is found as well, tegata::hiredis links it and OpenSSL::SSL and defines TEGATA_REDIS_TLS=1;
# otherwise TLS options are refused at construction.
#
# Options (tegata's own build only):
#   TEGATA_REDIS          build tegata::redis when hiredis is found (default ON)
#   TEGATA_REQUIRE_REDIS  fail at configure time without hiredis, and make the Redis tests fail
#                         instead of skipping without TEGATA_TEST_REDIS (default: the environment
#                         variable TEGATA_REQUIRE_REDIS, which .ci/run sets)
include_guard(GLOBAL)

if(NOT TARGET tegata::hiredis)
  find_package(PkgConfig QUIET)
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(PC_TEGATA_HIREDIS QUIET hiredis)
    pkg_check_modules(PC_TEGATA_HIREDIS_SSL QUIET hiredis_ssl)
  endif()
  # hiredis.pc names .../include/hiredis; tegata includes <hiredis/hiredis.h>, one level up.
  find_path(TEGATA_HIREDIS_INCLUDE_DIR hiredis/hiredis.h
            HINTS "${PC_TEGATA_HIREDIS_INCLUDEDIR}/.." ${PC_TEGATA_HIREDIS_INCLUDE_DIRS}
            DOC "Directory holding hiredis/hiredis.h")
  find_library(TEGATA_HIREDIS_LIBRARY NAMES hiredis
               HINTS ${PC_TEGATA_HIREDIS_LIBDIR} ${PC_TEGATA_HIREDIS_LIBRARY_DIRS}
               DOC "The hiredis library")
  find_path(TEGATA_HIREDIS_SSL_INCLUDE_DIR hiredis/hiredis_ssl.h
            HINTS "${PC_TEGATA_HIREDIS_SSL_INCLUDEDIR}/.." ${PC_TEGATA_HIREDIS_SSL_INCLUDE_DIRS}
                  "${TEGATA_HIREDIS_INCLUDE_DIR}"
            DOC "Directory holding hiredis/hiredis_ssl.h (hiredis >= 1.0 with TLS)")
  find_library(TEGATA_HIREDIS_SSL_LIBRARY NAMES hiredis_ssl
               HINTS ${PC_TEGATA_HIREDIS_SSL_LIBDIR} ${PC_TEGATA_HIREDIS_SSL_LIBRARY_DIRS}
                     ${PC_TEGATA_HIREDIS_LIBDIR}
               DOC "The hiredis_ssl library (hiredis >= 1.0 with TLS)")
  mark_as_advanced(TEGATA_HIREDIS_INCLUDE_DIR TEGATA_HIREDIS_LIBRARY
                   TEGATA_HIREDIS_SSL_INCLUDE_DIR TEGATA_HIREDIS_SSL_LIBRARY)

  if(TEGATA_HIREDIS_INCLUDE_DIR AND TEGATA_HIREDIS_LIBRARY)
    add_library(tegata::hiredis INTERFACE IMPORTED)
    set_target_properties(tegata::hiredis PROPERTIES
      INTERFACE_INCLUDE_DIRECTORIES "${TEGATA_HIREDIS_INCLUDE_DIR}"
      INTERFACE_LINK_LIBRARIES "${TEGATA_HIREDIS_LIBRARY}")
    set(TEGATA_HIREDIS_TLS OFF)
    if(TEGATA_HIREDIS_SSL_INCLUDE_DIR AND TEGATA_HIREDIS_SSL_LIBRARY)
      find_package(OpenSSL 3 QUIET COMPONENTS SSL)
      if(TARGET OpenSSL::SSL)
        set_property(TARGET tegata::hiredis APPEND PROPERTY
          INTERFACE_LINK_LIBRARIES "${TEGATA_HIREDIS_SSL_LIBRARY}" OpenSSL::SSL)
        set_property(TARGET tegata::hiredis APPEND PROPERTY
          INTERFACE_COMPILE_DEFINITIONS TEGATA_REDIS_TLS=1)
        set(TEGATA_HIREDIS_TLS ON)
      endif()
    endif()
  endif()
endif()

# The build target: only when included by tegata's own CMakeLists.txt.
if(DEFINED tegata_SOURCE_DIR AND CMAKE_CURRENT_LIST_DIR STREQUAL "${tegata_SOURCE_DIR}/cmake"
   AND TARGET tegata AND NOT TARGET tegata_redis)
  option(TEGATA_REDIS "Build tegata::redis (the Redis-backed RevocationStore) when hiredis is found"
         ON)
  set(tegata_require_redis_default OFF)
  if(DEFINED ENV{TEGATA_REQUIRE_REDIS} AND "$ENV{TEGATA_REQUIRE_REDIS}")
    set(tegata_require_redis_default ON)
  endif()
  option(TEGATA_REQUIRE_REDIS
         "Fail without hiredis, and fail (not skip) the Redis tests without TEGATA_TEST_REDIS"
         ${tegata_require_redis_default})

  if(TEGATA_REDIS AND TARGET tegata::hiredis)
    add_library(tegata_redis INTERFACE)
    add_library(tegata::redis ALIAS tegata_redis)
    set_target_properties(tegata_redis PROPERTIES EXPORT_NAME redis)
    target_link_libraries(tegata_redis INTERFACE tegata::tegata tegata::hiredis)
    message(STATUS "tegata: tegata::redis with hiredis ${PC_TEGATA_HIREDIS_VERSION} "
                   "(${TEGATA_HIREDIS_LIBRARY}), TLS: ${TEGATA_HIREDIS_TLS}")
  elseif(TEGATA_REQUIRE_REDIS)
    message(FATAL_ERROR "tegata: TEGATA_REQUIRE_REDIS=ON but tegata::redis cannot be built: "
                        "hiredis not found (Debian: libhiredis-dev) or TEGATA_REDIS=OFF")
  else()
    message(STATUS "tegata: hiredis not found (Debian: libhiredis-dev), tegata::redis is not built")
  endif()
endif()
