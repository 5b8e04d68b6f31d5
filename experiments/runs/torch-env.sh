# Sourced by the run scripts here when DEVICE=tch: LibTorch from the torch wheel
# (`pip install torch==2.9.0`, what `cargo xtask libtorch --build` links against) on
# the library path, and OpenMP at THREADS threads (default 1) with a passive wait, so
# that runs sharing the cores do not spin against each other.
TORCH_LIB="$(${PYTHON:-python3} -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
export LD_LIBRARY_PATH="$TORCH_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
# glibc's allocator hands every freed block of more than a few MB back to the kernel
# (and trims the heap's top), so each decoder pass page-faults its 1-30 MB tensors in
# anew: 15 % of a SpecGR-KNN evaluation's time was in the kernel. Keeping blocks up to
# 32 MiB on the heap and up to 1 GiB of it free made the same evaluation 1.12-1.16x
# faster side by side (../results/gr-model/bf16-inference/README.md). Set any of them
# beforehand to keep glibc's choice.
export MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-33554432}
export MALLOC_TRIM_THRESHOLD_=${MALLOC_TRIM_THRESHOLD_:-1073741824}
export MALLOC_TOP_PAD_=${MALLOC_TOP_PAD_:-268435456}
# tcmalloc in front of all of that where Debian's libtcmalloc-minimal4 is installed
# (`apt-get install libtcmalloc-minimal4`): glibc cannot keep blocks above 32 MiB (its
# mmap threshold's ceiling), and a batch of long histories has 30-90 MB activations,
# which it maps and the kernel zero-fills anew at every step. Training ran 1.13x
# faster side by side (jemalloc: 0.62x), evaluation 1.0-1.1x
# (../results/gr-model/allocator-preload/). TCMALLOC= keeps glibc; TCMALLOC=<path>
# names another build.
TCMALLOC=${TCMALLOC-/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4}
if [ -n "$TCMALLOC" ] && [ -f "$TCMALLOC" ]; then
  case ":${LD_PRELOAD:-}:" in *":$TCMALLOC:"*) ;; *) export LD_PRELOAD="$TCMALLOC${LD_PRELOAD:+:$LD_PRELOAD}" ;; esac
elif [ -n "$TCMALLOC" ]; then
  echo "torch-env: no $TCMALLOC (apt-get install libtcmalloc-minimal4): glibc's malloc, training ~1.13x slower" >&2
fi
