# Sourced by the run scripts here when DEVICE=tch: LibTorch from the torch wheel
# (`pip install torch==2.9.0`, what `cargo xtask libtorch --build` links against) on
# the library path, and OpenMP at THREADS threads (default 1) with a passive wait, so
# that runs sharing the cores do not spin against each other.
TORCH_LIB="$(${PYTHON:-python3} -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
export LD_LIBRARY_PATH="$TORCH_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
