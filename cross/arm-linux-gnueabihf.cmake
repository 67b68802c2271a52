# CMake toolchain file: 32-bit ARM gateways (ARMv7 with hardware floating point:
# Raspberry Pi with a 32-bit OS, Moxa UC-8100) with Debian 12's cross compiler
# and armhf multiarch libraries.
#   scripts/deps-cross armhf && scripts/cross-build armhf
# or by hand:
#   cmake -S . -B build-armhf -DCMAKE_TOOLCHAIN_FILE=cross/arm-linux-gnueabihf.cmake
set(CMAKE_SYSTEM_PROCESSOR arm)
set(PLANT_CROSS_TRIPLET arm-linux-gnueabihf)
set(PLANT_CROSS_DEB_ARCH armhf)
set(PLANT_CROSS_QEMU_NAME qemu-arm)
include(${CMAKE_CURRENT_LIST_DIR}/debian-multiarch.cmake)
