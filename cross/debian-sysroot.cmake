# Shared by the cross/*.cmake toolchain files that build against a sysroot:
# Debian's cross compiler with the target's libraries unpacked into a folder
# (scripts/sysroot) instead of installed as multiarch packages. The including
# file sets CMAKE_SYSTEM_PROCESSOR, PLANT_CROSS_TRIPLET, PLANT_CROSS_DEB_ARCH,
# PLANT_CROSS_QEMU_NAME and PLANT_CROSS_SYSROOT_NAME (the folder's name at the
# top of the source tree; $PLANT_SYSROOT overrides the whole path).

set(CMAKE_SYSTEM_NAME Linux)

set(CMAKE_C_COMPILER ${PLANT_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${PLANT_CROSS_TRIPLET}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${PLANT_CROSS_TRIPLET})

# Read from the environment rather than a cache variable: CMake re-reads this
# file for every try_compile, where only the environment is passed on.
if(DEFINED ENV{PLANT_SYSROOT})
  set(PLANT_CROSS_SYSROOT $ENV{PLANT_SYSROOT})
else()
  get_filename_component(PLANT_CROSS_SYSROOT ${CMAKE_CURRENT_LIST_DIR}/../${PLANT_CROSS_SYSROOT_NAME} ABSOLUTE)
endif()
if(NOT EXISTS ${PLANT_CROSS_SYSROOT}/usr/include)
  message(FATAL_ERROR "no sysroot at ${PLANT_CROSS_SYSROOT}: run scripts/sysroot (scripts/deps-cross does)")
endif()
# --sysroot for compiling and linking: headers, libraries, the C runtime and
# the dynamic loader all come from the target's packages.
set(CMAKE_SYSROOT ${PLANT_CROSS_SYSROOT})
set(CMAKE_FIND_ROOT_PATH ${PLANT_CROSS_SYSROOT})
# protoc and other build tools are the build machine's.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(ENV{PKG_CONFIG_SYSROOT_DIR} ${PLANT_CROSS_SYSROOT})
set(ENV{PKG_CONFIG_LIBDIR}
    ${PLANT_CROSS_SYSROOT}/usr/lib/${PLANT_CROSS_TRIPLET}/pkgconfig:${PLANT_CROSS_SYSROOT}/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")

# Target programs run under qemu-user with the sysroot's own loader and
# libraries (-L), which match the libc the program was linked against.
find_program(PLANT_CROSS_QEMU ${PLANT_CROSS_QEMU_NAME})
if(PLANT_CROSS_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${PLANT_CROSS_QEMU} -L ${PLANT_CROSS_SYSROOT})
endif()
