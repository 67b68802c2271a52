# CMake toolchain file: 32-bit ARM gateways (ARMv7 with hardware floating point:
# Raspberry Pi with a 32-bit OS, Moxa UC-8100) with Debian 12's cross compiler
# and an armhf sysroot unpacked from the main archive (scripts/sysroot), not
# multiarch :armhf packages, whose security index is broken on the mirror.
#   scripts/deps-cross armhf && scripts/cross-build armhf
# or by hand:
#   scripts/sysroot
#   cmake -S . -B build-armhf -DCMAKE_TOOLCHAIN_FILE=cross/arm-linux-gnueabihf.cmake
set(CMAKE_SYSTEM_PROCESSOR arm)
set(PLANT_CROSS_TRIPLET arm-linux-gnueabihf)
set(PLANT_CROSS_DEB_ARCH armhf)
set(PLANT_CROSS_QEMU_NAME qemu-arm)
set(PLANT_CROSS_SYSROOT_NAME build-sysroot-armhf)
include(${CMAKE_CURRENT_LIST_DIR}/debian-sysroot.cmake)
# GCC notes every std::vector growth on 32-bit ARM that the parameter passing
# of such iterators changed in GCC 7.1; every library here is built with GCC 12.
set(CMAKE_CXX_FLAGS_INIT "-Wno-psabi")
