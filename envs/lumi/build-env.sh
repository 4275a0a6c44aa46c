#!/usr/bin/env bash
# The project's environment on LUMI, built as LUMI's AI guide extends its PyTorch images
# (Lumi-supercomputer/LUMI-AI-Guide, 02-setting-up-environment/create_squashfs.sh): a venv
# with --system-site-packages made inside a pinned LUMI image, packed into one squashfs
# file (one file against the 100k-file quota, not the venv's tens of thousands).
#
# Run in a login shell on a LUMI login node, from the repository root (on /scratch):
#   export MERGELIMITS_ENV=/scratch/project_465000000/$USER/mergelimits-env
#   bash envs/lumi/build-env.sh
# It leaves $MERGELIMITS_ENV/image.sif (a link to the pinned image) and venv.sqsh, which
# profiles/lumi mounts at /user-software in every job. Rebuild after a change to the pins in
# pyproject.toml; the project itself is installed editable from this checkout, so code
# changes need no rebuild.
set -euo pipefail
: "${MERGELIMITS_ENV:?set MERGELIMITS_ENV to a directory on /scratch or /flash}"
# lumi-multitorch-full: ROCm PyTorch, RCCL with the CXI plugin, flash attention, Megatron-LM
BASE=${MERGELIMITS_BASE_IMAGE:-/appl/local/laifs/containers/lumi-multitorch-u24r70f21m50t210-20260415_130625/lumi-multitorch-full-u24r70f21m50t210-20260415_130625.sif}
case "$(realpath -m "$MERGELIMITS_ENV")/" in
  "$(realpath -m "$HOME")"/*)
    echo "MERGELIMITS_ENV lies under \$HOME (20 GB, 100k files): put it on /scratch or /flash" >&2
    exit 1 ;;
esac
[ -f pyproject.toml ] || { echo "run from the repository root" >&2; exit 1; }
[ -f "$BASE" ] || { echo "no image at $BASE: set MERGELIMITS_BASE_IMAGE to a LUMI PyTorch image" >&2; exit 1; }

module purge
module use /appl/local/laifs/modules
module load lumi-aif-singularity-bindings   # binds /pfs (the real /scratch, /project) and the CXI libraries

mkdir -p "$MERGELIMITS_ENV"
build=$(mktemp -d "$MERGELIMITS_ENV/build.XXXXXX")
trap 'rm -rf "$build"' EXIT
singularity exec -B "$build":/user-software -B "$PWD" "$BASE" bash -c "
set -euo pipefail
python -m venv --system-site-packages /user-software
# Every pin of pyproject.toml but torch: the image's ROCm build stays (PyPI's is CUDA's).
python -c 'import tomllib; print(chr(10).join(d for d in tomllib.load(open(\"pyproject.toml\", \"rb\"))[\"project\"][\"dependencies\"] if not d.startswith(\"torch\")))' > /user-software/requirements.txt
/user-software/bin/pip install --no-cache-dir -r /user-software/requirements.txt
/user-software/bin/pip install --no-cache-dir --no-deps -e '$PWD'
/user-software/bin/python -c 'import torch, megatron.core, mergekit, lm_eval, mergelimits; assert torch.version.hip, \"torch is not the ROCm build\"'
"
mksquashfs "$build" "$MERGELIMITS_ENV/venv.sqsh.tmp" -processors 1 -no-xattrs -noappend
mv "$MERGELIMITS_ENV/venv.sqsh.tmp" "$MERGELIMITS_ENV/venv.sqsh"
ln -sfn "$BASE" "$MERGELIMITS_ENV/image.sif"
echo "built $MERGELIMITS_ENV/venv.sqsh over $BASE"
