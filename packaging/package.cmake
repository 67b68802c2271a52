# The Debian packages (CPack DEB, one per component), included by the
# top-level CMakeLists.txt. scripts/package builds them into dist/:
#   plant-agent_<version>-1_{amd64,arm64,armhf}.deb      (component "agent")
#   plant-register_<version>-1_amd64.deb                  (component "register", where libpq is)
# Contents: /usr/bin/plant-agent and plant-watch (stripped), the reference
# config as a conffile in /etc/plant-agent, the hardened systemd unit, and the
# Modbus RTU drop-in as an example in /usr/share/doc/plant-agent/examples.
# The agent's state (/var/lib/plant-agent) is created by systemd
# (StateDirectory=); the maintainer scripts in packaging/ add the system user
# and remove the state on purge.

# Absolute destinations: these paths are fixed by Debian and by the unit file,
# whatever CMAKE_INSTALL_PREFIX says.
install(TARGETS plant-agent plant-watch RUNTIME DESTINATION bin COMPONENT agent)
install(FILES config/plant-agent.toml DESTINATION /etc/plant-agent COMPONENT agent)
install(FILES systemd/plant-agent.service DESTINATION /lib/systemd/system COMPONENT agent)
install(FILES systemd/plant-agent-serial.conf DESTINATION share/doc/plant-agent/examples COMPONENT agent)
install(FILES README.md DESTINATION share/doc/plant-agent COMPONENT agent)
set(CPACK_COMPONENTS_ALL agent)
if(TARGET plant-register)
  # The central register: its own package, user, unit and config.
  install(TARGETS plant-register RUNTIME DESTINATION bin COMPONENT register)
  install(FILES config/plant-register.toml DESTINATION /etc/plant-register COMPONENT register)
  install(FILES systemd/plant-register.service DESTINATION /lib/systemd/system COMPONENT register)
  install(FILES README.md DESTINATION share/doc/plant-register COMPONENT register)
  list(APPEND CPACK_COMPONENTS_ALL register)
endif()

set(PLANT_PACKAGE_MAINTAINER "plant-agent maintainers <plant-agent@example.invalid>"
    CACHE STRING "Maintainer field of the .deb")

set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_PACKAGE_NAME plant-agent)
set(CPACK_DEBIAN_AGENT_PACKAGE_NAME plant-agent)
set(CPACK_DEBIAN_REGISTER_PACKAGE_NAME plant-register)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${PLANT_PACKAGE_MAINTAINER}")
# CPackDeb prepends CPACK_PACKAGE_DESCRIPTION_SUMMARY to every package's
# description unless it is CPack's own default ("<project> built using CMake"),
# so it is set to exactly that: each description's first line is its synopsis.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${CMAKE_PROJECT_NAME} built using CMake")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Stripped with the target's strip (CMAKE_STRIP comes from the toolchain).
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_AGENT_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_REGISTER_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The first line is the synopsis, the rest the body.
set(CPACK_DEBIAN_AGENT_DESCRIPTION "Line status and stock levels from the plant floor to MQTT
plant-agent is a small daemon for factory gateways. It reads line status and
stock levels from a simulator, CSV drops and Modbus TCP/RTU PLCs, detects
shortages at the edge, and publishes protobuf over MQTT without losing data
through a broker outage, a crash or a power cut. plant-watch is the ops-side
CLI: it subscribes, decodes, audits delivery and shows shortages.")
set(CPACK_DEBIAN_REGISTER_DESCRIPTION "Central register of stock, line states and shortages in PostgreSQL
plant-register subscribes to every plant-agent on a broker, keeps every stock
level, line state, shortage alert and agent status in PostgreSQL exactly
once (a local journal holds what the database has not committed), and serves
them over an HTTP JSON API. Instances scale out with MQTT shared subscriptions.")
# Library dependencies come from dpkg-shlibdeps; the only hand-written one is
# what the maintainer scripts call.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_AGENT_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_REGISTER_PACKAGE_DEPENDS "adduser")
# A sysroot build (armhf): CPack cannot hand dpkg-shlibdeps the sysroot's dpkg
# database, so scripts/package runs it with --admindir on the built programs
# and passes the result in.
set(PLANT_DEB_DEPENDS "" CACHE STRING "Library dependencies worked out outside CPack (scripts/package, armhf)")
if(PLANT_DEB_DEPENDS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
  set(CPACK_DEBIAN_AGENT_PACKAGE_DEPENDS "adduser, ${PLANT_DEB_DEPENDS}")
endif()
if(CMAKE_CROSSCOMPILING)
  # dpkg-shlibdeps searches the build machine's library directories; point it
  # at the target's multiarch ones (installed by scripts/deps-cross).
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS
      /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE} /lib/${CMAKE_LIBRARY_ARCHITECTURE})
endif()
if(DEFINED PLANT_CROSS_DEB_ARCH)
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${PLANT_CROSS_DEB_ARCH})
endif()
set(CPACK_DEBIAN_REGISTER_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_LIST_DIR}/register/conffiles
    ${CMAKE_CURRENT_LIST_DIR}/register/postinst
    ${CMAKE_CURRENT_LIST_DIR}/register/prerm
    ${CMAKE_CURRENT_LIST_DIR}/register/postrm)
set(CPACK_DEBIAN_AGENT_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_LIST_DIR}/conffiles
    ${CMAKE_CURRENT_LIST_DIR}/postinst
    ${CMAKE_CURRENT_LIST_DIR}/prerm
    ${CMAKE_CURRENT_LIST_DIR}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
