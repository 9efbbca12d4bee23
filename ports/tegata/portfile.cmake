# vcpkg overlay port for tegata: vcpkg install tegata --overlay-ports=<checkout>/ports
#
# Source. A release fetches the tagged archive from GitHub: at release time set REF to the tag and
# SHA512 to the archive's hash (run once with SHA512 0; vcpkg prints the expected value). Until
# then the REF/SHA512 below are placeholders and a local checkout is used instead, which also
# works offline: point the environment variable TEGATA_SOURCE_PATH at it, e.g. from the checkout
#   TEGATA_SOURCE_PATH=$PWD VCPKG_KEEP_ENV_VARS=TEGATA_SOURCE_PATH \
#     vcpkg install tegata --overlay-ports=$PWD/ports
# (VCPKG_KEEP_ENV_VARS lets the variable through where vcpkg builds in a cleaned environment, as
# on Windows.)
# (Also set by tests/packaging/port_install.cmake, which runs these steps without vcpkg.)
set(VCPKG_BUILD_TYPE release)  # header-only: nothing differs between debug and release

if(DEFINED ENV{TEGATA_SOURCE_PATH})
  set(SOURCE_PATH "$ENV{TEGATA_SOURCE_PATH}")
  if(NOT EXISTS "${SOURCE_PATH}/include/tegata/tegata.hpp")
    message(FATAL_ERROR "TEGATA_SOURCE_PATH=${SOURCE_PATH} is not a tegata checkout")
  endif()
else()
  vcpkg_from_github(
    OUT_SOURCE_PATH SOURCE_PATH
    REPO tegata/tegata  # placeholder: the project's GitHub repository
    REF "v${VERSION}"
    SHA512 0            # placeholder: the hash of the release archive
    HEAD_REF main)
endif()

vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS
    -DTEGATA_BUILD_TESTS=OFF
    -DTEGATA_BUILD_EXAMPLES=OFF
    -DTEGATA_BUILD_BENCHMARKS=OFF
    -DTEGATA_BUILD_TOOLS=OFF
    -DTEGATA_BUILD_DOCS=OFF
    -DTEGATA_INSTALL=ON
    -DTEGATA_INSTALL_CMAKEDIR=share/tegata)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(CONFIG_PATH share/tegata)
vcpkg_fixup_pkgconfig()

# Header-only: no libraries. The license goes to share/tegata/copyright, vcpkg's place for it.
file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/lib" "${CURRENT_PACKAGES_DIR}/debug"
                    "${CURRENT_PACKAGES_DIR}/share/doc")
file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
