# Shared by the cross/*.cmake toolchain files: Debian's cross compilers with the
# target's libraries installed as multiarch packages (libfoo-dev:ARCH), which
# put libraries in /usr/lib/<triplet> and headers in /usr/include.
# The including file sets CMAKE_SYSTEM_PROCESSOR, PLANT_CROSS_TRIPLET,
# PLANT_CROSS_DEB_ARCH (the .deb's Architecture, read by packaging/package.cmake)
# and PLANT_CROSS_QEMU_NAME first; scripts/deps-cross installs the packages.

set(CMAKE_SYSTEM_NAME Linux)

set(CMAKE_C_COMPILER ${PLANT_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${PLANT_CROSS_TRIPLET}-g++)
# Makes find_library/find_package look in /usr/lib/<triplet> (and its cmake/
# config packages) instead of the host's /usr/lib/x86_64-linux-gnu.
set(CMAKE_LIBRARY_ARCHITECTURE ${PLANT_CROSS_TRIPLET})

# The cross toolchain's own files, then the multiarch tree rooted at /.
set(CMAKE_FIND_ROOT_PATH /usr/${PLANT_CROSS_TRIPLET} /)
# Programs run on the build machine: the host's protoc generates the code
# (FindProtobuf's find_program then finds /usr/bin/protoc, which is what
# Protobuf_PROTOC_EXECUTABLE and the protobuf::protoc target point at).
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config (libmodbus) must read the target's .pc files only.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/${PLANT_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")

# Lets CMake run target programs (gtest_discover_tests, ctest in the cross
# tree) under qemu-user. No -L: with libc6:<arch> installed the multiarch
# loader is found at its standard path, and -L with the cross toolchain's
# libc hangs threaded programs (shared/notes/TOOLCHAIN.md, trap 4).
find_program(PLANT_CROSS_QEMU ${PLANT_CROSS_QEMU_NAME})
if(PLANT_CROSS_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${PLANT_CROSS_QEMU})
endif()
