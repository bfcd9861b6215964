# SPDX-License-Identifier: MIT
# The independent NumPy reference (gasm_ref.py, written from model.md alone): first checked
# against the cases the public PyTorch GASM computed, then used as the oracle for the engine on
# random scenes with relations, custom edges, constraints and all three curvature kinds.
find_program(GASM_DEBIAN_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT GASM_DEBIAN_PYTHON)
  message(WARNING "Debian's /usr/bin/python3 not found: the reference tests are not registered")
  return()
endif()
set(GASM_REF_DIR ${CMAKE_CURRENT_LIST_DIR})
add_test(NAME reference.pytorch_cases
  COMMAND ${GASM_DEBIAN_PYTHON} ${GASM_REF_DIR}/test_reference_cases.py)
set_tests_properties(reference.pytorch_cases PROPERTIES LABELS "reference"
  ENVIRONMENT "GASM_REFERENCE_DIR=${CMAKE_SOURCE_DIR}/../shared/reference")
foreach(seed 42 1234 777)
  set(work ${CMAKE_BINARY_DIR}/reference_work/seed${seed})
  set(extra "")
  if(NOT seed EQUAL 42)
    set(extra --quick)
  endif()
  add_test(NAME reference.engine_seed${seed}
    COMMAND ${CMAKE_COMMAND} -E env --unset=GASM_FORCE_REGEN --unset=GASM_WEIGHTS
      --unset=GASM_DEVICE
      ${GASM_DEBIAN_PYTHON} ${GASM_REF_DIR}/compare_engine.py --engine $<TARGET_FILE:gasm_gpu>
      --workdir ${work} --seed ${seed} --engine-arg=--device=cpu ${extra})
  set_tests_properties(reference.engine_seed${seed} PROPERTIES LABELS "reference" TIMEOUT 900)
endforeach()

# The PyTorch converter, where Debian's python3-torch is installed (scripts/setup.sh installs it).
execute_process(COMMAND ${GASM_DEBIAN_PYTHON} -c "import torch, h5py"
  RESULT_VARIABLE GASM_NO_TORCH OUTPUT_QUIET ERROR_QUIET)
if(GASM_NO_TORCH EQUAL 0)
  add_test(NAME reference.torch_converter
    COMMAND ${GASM_DEBIAN_PYTHON} ${GASM_REF_DIR}/test_torch_converter.py $<TARGET_FILE:gasm_gpu>
      ${CMAKE_BINARY_DIR}/reference_work/torch)
  set_tests_properties(reference.torch_converter PROPERTIES LABELS "reference")
else()
  message(STATUS "python3-torch not importable by /usr/bin/python3: converter test not registered")
endif()
