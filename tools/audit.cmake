# jhansi-audit: lists, shows, verifies, exports and signs the audit store.
# Owned with audit/; included from tools/CMakeLists.txt.
add_executable(jhansi-audit ${CMAKE_CURRENT_LIST_DIR}/jhansi-audit.c)
target_link_libraries(jhansi-audit PRIVATE jh_audit jh_base)
install(TARGETS jhansi-audit RUNTIME DESTINATION bin)
