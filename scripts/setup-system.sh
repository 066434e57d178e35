#!/usr/bin/env bash
# The Debian packages the end-to-end tests drive (`npm run setup-system`; .ci/run runs it too):
# without them `npm test` skips those suites, naming what is missing (test/system-tools.ts).
#   Jupyter server, nbconvert and jupyter_kernel_test for the kernel's end-to-end tests
#   (jupyter-client adds the `jupyter kernelspec` command); the classic Notebook, Chromium and a
#   text font for the browser test (test/kernel/browser.e2e.test.ts), with the widgets extension
#   (ipywidgets 6's jupyter-js-widgets, enabled for every Notebook by the package's own
#   /etc/jupyter/nbconfig file) for the steering notebook's widgets; Jupyter server and Chromium
#   again for the JupyterLab 4 test (test/kernel/lab.e2e.test.ts, JupyterLab from npm); Open MPI's mpirun and
#   MPICH's mpiexec.mpich for the launcher tests (test/runtime/launchers.test.ts; Open MPI keeps
#   the plain mpirun name, its alternative ranks higher); sshd, ip and ss for the ssh launcher's
#   tests across network namespaces (test/runtime/hosts.test.ts, as root); Slurm and munge for a
#   one-node cluster the launcher tests start (test/runtime/slurm-cluster.ts).
set -euo pipefail

PACKAGES=(
  python3-jupyter-server jupyter-nbconvert python3-nbconvert python3-jupyter-client
  python3-jupyter-kernel-test jupyter-client jupyter-notebook chromium fonts-liberation
  python3-ipywidgets jupyter-nbextension-jupyter-js-widgets
  openmpi-bin mpich openssh-server iproute2 procps
  munge slurmctld slurmd slurm-client
)

if ! command -v apt-get >/dev/null; then
  echo "setup-system: no apt-get here (Debian or Ubuntu expected); install these by your system's means: ${PACKAGES[*]}" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "setup-system: run as root (apt-get installs system packages)" >&2; exit 1; }
  sudo=(sudo)
fi

apt() { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "$@"; }
apt update -qq >/dev/null
apt install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
echo "setup-system: installed ${PACKAGES[*]}"
