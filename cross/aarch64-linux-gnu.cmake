# CMake toolchain file: 64-bit ARM gateways (Raspberry Pi CM4 with a 64-bit OS,
# Siemens IOT2050) with Debian 12's cross compiler and arm64 multiarch libraries.
#   scripts/deps-cross arm64 && scripts/cross-build arm64
# or by hand:
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cross/aarch64-linux-gnu.cmake
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(PLANT_CROSS_TRIPLET aarch64-linux-gnu)
set(PLANT_CROSS_DEB_ARCH arm64)
set(PLANT_CROSS_QEMU_NAME qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/debian-multiarch.cmake)
