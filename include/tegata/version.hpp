// tegata/version.hpp - the library version; kept equal to the CMake project version.
#pragma once

#define TEGATA_VERSION_MAJOR 0
#define TEGATA_VERSION_MINOR 1
#define TEGATA_VERSION_PATCH 0
#define TEGATA_VERSION \
  (TEGATA_VERSION_MAJOR * 10000 + TEGATA_VERSION_MINOR * 100 + TEGATA_VERSION_PATCH)
