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

# The C example and `rwcnn reconstruct` give the same pixels for the same
# photo: both resize and crop with rwcnn_image_resize_crop's core function
# and map the output for display by the same rule, so the PNG files are
# byte-identical. A non-square photo with an odd side (chelsea, 451x300)
# exercises the rounding of the resize and the crop offsets.
if(DEFINED CLI AND DEFINED COMPARE_IMAGE)
  foreach(_decoder tied random)
    set(_c "${_dir}/compare_c_${_decoder}.png")
    set(_cli "${_dir}/compare_cli_${_decoder}.png")
    file(REMOVE "${_c}" "${_cli}")
    execute_process(COMMAND "${PROGRAM}" "${COMPARE_IMAGE}" pool1 "${_c}" --decoder ${_decoder} --seed 3 --size 72
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "${PROGRAM} on ${COMPARE_IMAGE} exited with ${rc}:\n${err}")
    endif()
    execute_process(COMMAND "${CLI}" reconstruct "${COMPARE_IMAGE}" --cut pool1 --decoder ${_decoder} --seed 3
                            --size 72 -o "${_cli}"
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "${CLI} reconstruct on ${COMPARE_IMAGE} exited with ${rc}:\n${err}")
    endif()
    execute_process(COMMAND "${CMAKE_COMMAND}" -E compare_files "${_c}" "${_cli}" RESULT_VARIABLE same)
    if(NOT same EQUAL 0)
      message(FATAL_ERROR "the C example and rwcnn reconstruct (--decoder ${_decoder}) wrote different PNGs: ${_c} vs ${_cli}")
    endif()
    message(STATUS "--decoder ${_decoder}: C example and CLI outputs are byte-identical")
  endforeach()
endif()
