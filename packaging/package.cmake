# The Debian package (CPack DEB), included by the top-level CMakeLists.txt.
# scripts/package builds one per architecture into dist/:
#   plant-agent_<version>-1_{amd64,arm64,armhf}.deb
# Contents: /usr/bin/plant-agent and plant-watch (stripped), the reference
# config as a conffile in /etc/plant-agent, the hardened systemd unit, and the
# Modbus RTU drop-in as an example in /usr/share/doc/plant-agent/examples.
# The agent's state (/var/lib/plant-agent) is created by systemd
# (StateDirectory=); the maintainer scripts in packaging/ add the system user
# and remove the state on purge.

# Absolute destinations: these paths are fixed by Debian and by the unit file,
# whatever CMAKE_INSTALL_PREFIX says.
install(FILES config/plant-agent.toml DESTINATION /etc/plant-agent)
install(FILES systemd/plant-agent.service DESTINATION /lib/systemd/system)
install(FILES systemd/plant-agent-serial.conf DESTINATION share/doc/plant-agent/examples)
install(FILES README.md DESTINATION share/doc/plant-agent)

set(PLANT_PACKAGE_MAINTAINER "plant-agent maintainers <plant-agent@example.invalid>"
    CACHE STRING "Maintainer field of the .deb")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME plant-agent)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${PLANT_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Stripped with the target's strip (CMAKE_STRIP comes from the toolchain).
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The summary line comes from CPACK_PACKAGE_DESCRIPTION_SUMMARY; this is the body.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "plant-agent is a small daemon for factory gateways. It reads line status and
stock levels from a simulator, CSV drops and Modbus TCP/RTU PLCs, detects
shortages at the edge, and publishes protobuf over MQTT without losing data
through a broker outage, a crash or a power cut. plant-watch is the ops-side
CLI: it subscribes, decodes, audits delivery and shows shortages.")
# Library dependencies come from dpkg-shlibdeps; the only hand-written one is
# what the maintainer scripts call.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
if(CMAKE_CROSSCOMPILING)
  # dpkg-shlibdeps searches the build machine's library directories; point it
  # at the target's multiarch ones (installed by scripts/deps-cross).
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS
      /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE} /lib/${CMAKE_LIBRARY_ARCHITECTURE})
endif()
if(DEFINED PLANT_CROSS_DEB_ARCH)
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${PLANT_CROSS_DEB_ARCH})
endif()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_LIST_DIR}/conffiles
    ${CMAKE_CURRENT_LIST_DIR}/postinst
    ${CMAKE_CURRENT_LIST_DIR}/prerm
    ${CMAKE_CURRENT_LIST_DIR}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
