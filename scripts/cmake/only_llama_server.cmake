# Included after llama.cpp's project() call (CMAKE_PROJECT_INCLUDE). When the whole source tree
# has been read, every target except llama-server is taken out of the default build, so
# `cmake --build .` compiles only llama-server and the libraries it links.
if(NOT DEFINED READINESS_ONLY_SERVER_HOOKED)
  set(READINESS_ONLY_SERVER_HOOKED TRUE)

  function(readiness_collect_targets dir out)
    get_property(targets DIRECTORY "${dir}" PROPERTY BUILDSYSTEM_TARGETS)
    get_property(subdirs DIRECTORY "${dir}" PROPERTY SUBDIRECTORIES)
    foreach(sub IN LISTS subdirs)
      readiness_collect_targets("${sub}" sub_targets)
      list(APPEND targets ${sub_targets})
    endforeach()
    set(${out} ${targets} PARENT_SCOPE)
  endfunction()

  # CMAKE_UNITY_BUILD compiles a target's sources a few at a time in one translation unit,
  # which cuts the compile by about a third on 2 cores. mtmd's helper sources refuse to share
  # one with mtmd's internals, so mtmd compiles file by file.
  function(readiness_unity_exceptions)
    if(TARGET mtmd)
      set_property(TARGET mtmd PROPERTY UNITY_BUILD OFF)
    endif()
  endfunction()

  function(readiness_only_server)
    readiness_unity_exceptions()
    readiness_collect_targets("${CMAKE_SOURCE_DIR}" all_targets)
    foreach(target IN LISTS all_targets)
      if(NOT target STREQUAL "llama-server")
        get_target_property(kind ${target} TYPE)
        if(NOT kind STREQUAL "INTERFACE_LIBRARY")
          set_property(TARGET ${target} PROPERTY EXCLUDE_FROM_ALL TRUE)
        endif()
      endif()
    endforeach()
  endfunction()

  cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL readiness_only_server)
endif()
