# Runs the C example on one photo and checks that it succeeds and writes a PNG.
#   cmake -DPROGRAM=... -DIMAGE=... -DLAYER=... -DOUTPUT=... -P RunExample.cmake
foreach(v PROGRAM IMAGE LAYER OUTPUT)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "RunExample.cmake needs -D${v}=...")
  endif()
endforeach()

get_filename_component(_dir "${OUTPUT}" DIRECTORY)
file(MAKE_DIRECTORY "${_dir}")
file(REMOVE "${OUTPUT}")

execute_process(COMMAND "${PROGRAM}" "${IMAGE}" "${LAYER}" "${OUTPUT}" --decoder tied --seed 0 --size 96
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message(STATUS "stdout:\n${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} exited with ${rc}\nstderr:\n${err}")
endif()
if(NOT err STREQUAL "")
  message(FATAL_ERROR "unexpected output on stderr:\n${err}")
endif()
if(NOT out MATCHES "PSNR" OR NOT out MATCHES "SSIM")
  message(FATAL_ERROR "the metrics are missing from the output")
endif()
if(NOT EXISTS "${OUTPUT}")
  message(FATAL_ERROR "${OUTPUT} was not written")
endif()
file(READ "${OUTPUT}" _sig LIMIT 8 HEX)
if(NOT _sig STREQUAL "89504e470d0a1a0a")
  message(FATAL_ERROR "${OUTPUT} is not a PNG (starts with ${_sig})")
endif()

# Bad input must fail with a message, not crash.
execute_process(COMMAND "${PROGRAM}" "${IMAGE}" "nosuchlayer" "${OUTPUT}.bad.png"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0 OR NOT rc MATCHES "^[0-9]+$")
  message(FATAL_ERROR "an unknown layer should exit non-zero, got ${rc}")
endif()
if(NOT err MATCHES "conv1_1")
  message(FATAL_ERROR "an unknown layer should print the valid names; stderr:\n${err}")
endif()
execute_process(COMMAND "${PROGRAM}" "${IMAGE}.missing.png" "pool1" "${OUTPUT}.bad.png"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0 OR NOT rc MATCHES "^[0-9]+$")
  message(FATAL_ERROR "a missing image should exit non-zero, got ${rc}")
endif()
if(EXISTS "${OUTPUT}.bad.png")
  message(FATAL_ERROR "a failed run wrote ${OUTPUT}.bad.png")
endif()
