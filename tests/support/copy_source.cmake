# cmake -P wrapper of tegata_copy_source (driver.cmake), for the shell-driven tests that run a
# block in a copy of the checkout (tests/docs/server_blocks.sh):
#   cmake -DSOURCE_DIR=<checkout> -DDEST=<new directory> [-DGIT=<git>] -P copy_source.cmake
cmake_minimum_required(VERSION 3.25)
set(driver copy_source.cmake)
include("${CMAKE_CURRENT_LIST_DIR}/driver.cmake")
tegata_require(SOURCE_DIR DEST)
tegata_copy_source("${SOURCE_DIR}" "${DEST}")
