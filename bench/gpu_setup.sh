# Source this on the lent GPU machine (see ../shared/GPU.md) before the benchmarks:
#   source bench/gpu_setup.sh
# - installs the wheels carried in .whl/ (ctranslate2 for cp312, datasets and its two missing needs, pycountry) into
#   /tmp/site;
# - gives CUDA 13's cuBLAS the cuBLAS 12 names that the ctranslate2 4.8 wheel loads.
# pycountry: the image lacks it, and a Translator looks up its model's declared language through it
# (utils.known_language), so translate_speed.py --gate stopped at its first model with ModuleNotFoundError.
# Fetch the wheels here first (PyPI is reachable here, not there):
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 -d .whl \
#     ctranslate2==4.8.5 datasets==5.2.0 dill==0.4.1 multiprocess==0.70.19 pycountry==26.2.16
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}
else
  export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
fi
mkdir -p /tmp/cu12
for lib in libcublas libcublasLt; do
  src=$(ls /usr/local/cuda/lib64/$lib.so.13* 2>/dev/null | head -1)
  [ -n "$src" ] || src=$(python3 -c "import nvidia.cu13, os; print(os.path.dirname(nvidia.cu13.__file__))" 2>/dev/null)/lib/$lib.so.13
  ln -sf "$src" /tmp/cu12/$lib.so.12
done
export LD_LIBRARY_PATH=/tmp/cu12${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=true
# said now, not minutes into a run (translate_speed.py --gate needs pycountry; without ctranslate2 its rows say so)
for module in pycountry ctranslate2; do
  python3 -c "import $module" 2>/dev/null || echo "gpu_setup.sh: $module cannot be imported here: carry its wheel in .whl (see above)" >&2
done
