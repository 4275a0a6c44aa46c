#!/usr/bin/env bash
# A real one-node Slurm on localhost, for the Slurm tests (tests/test_slurm.py).
#   tools/local-slurm.sh start   install (Debian packages) if needed, configure, start, wait for the node
#   tools/local-slurm.sh stop    stop the daemons this script started, and put back the
#                                slurm.conf found at start (or remove ours): the Slurm executor
#                                plugin runs `scontrol show config` whenever Snakemake starts,
#                                and a config naming a stopped controller makes that wait ~9 s
# Needs root. The configuration must live at /etc/slurm/slurm.conf: the Slurm executor's job
# step drops SLURM_CONF before its inner srun. State and logs go to $SLURM_TEST_DIR.
set -euo pipefail
DIR=${SLURM_TEST_DIR:-/tmp/mergelimits-slurm}
CONF=/etc/slurm/slurm.conf

install() {
  command -v slurmctld >/dev/null && command -v munged >/dev/null && command -v sbatch >/dev/null && return
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurmctld slurmd slurm-client munge >/dev/null
}

configure() {
  local host cpus mem
  host=$(hostname -s)
  # Twice the cores: the study's jobs here spend much of their time starting Python and an
  # inner Snakemake or waiting for the executor's status check, so two jobs a core overlap
  # that waiting. config_overrides lets slurmd accept more CPUs than it counts.
  cpus=$(( 2 * $(nproc) ))
  mem=$(( $(free -m | awk '/^Mem:/ {print $2}') - 1024 ))
  mkdir -p "$DIR"/{state,spool,log} /etc/slurm
  if [ -f "$CONF" ] && ! grep -q '^ClusterName=mergelimits-test$' "$CONF"; then
    cp -p "$CONF" "$DIR/slurm.conf.found"
  fi
  cat > "$CONF" <<CONF
ClusterName=mergelimits-test
SlurmctldHost=${host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
ReturnToService=2
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Memory limits enforced without cgroups: usage polled every second, a step over --mem killed.
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
JobAcctGatherParams=OverMemoryKill
# Time limits: kill at the limit, SIGKILL 5 s after SIGTERM (tests wait for it).
OverTimeLimit=0
KillWait=5
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SlurmdParameters=config_overrides
# A job runs at the nice value of the sbatch that submitted it: tests/test_slurm.py submits its
# CPU-bound time-limit job niced, so that it takes only what the study's jobs leave.
PropagatePrioProcess=1
NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${mem} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
}

start() {
  install
  configure
  mkdir -p /run/munge && chown munge:munge /run/munge
  # a munged that has exited but not been reaped (PID 1 of a sandbox may not reap) is no munged
  if ! pgrep -r R,S,D -x munged >/dev/null; then
    runuser -u munge -- /usr/sbin/munged
    touch "$DIR/munged.ours"
  fi
  # -c: a clean cluster every start; jobs left queued by a run that was killed would keep the
  # node busy, and it would never show idle below
  slurmctld -c
  slurmd
  for _ in $(seq 60); do
    if sinfo -h -o %T 2>/dev/null | grep -qx idle; then
      echo "slurm up: $(sinfo -h -o '%P %D %T %c CPUs %m MB')"
      return
    fi
    sleep 0.5
  done
  echo "slurm did not come up; logs in $DIR/log" >&2
  exit 1
}

stop() {
  for pid in "$DIR/slurmd.pid" "$DIR/slurmctld.pid"; do
    [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null || true
  done
  if [ -f "$DIR/munged.ours" ]; then
    pkill -x munged || true
    rm -f "$DIR/munged.ours"
  fi
  if [ -f "$DIR/slurm.conf.found" ]; then
    mv "$DIR/slurm.conf.found" "$CONF"
  elif [ -f "$CONF" ] && grep -q '^ClusterName=mergelimits-test$' "$CONF"; then
    rm -f "$CONF"
  fi
}

"${1:?usage: $0 start|stop}"
