#!/usr/bin/env bash
# A real one-node SLURM cluster on this machine, for trying the workflow's SLURM profile (and for CI).
#
#   .ci/slurm-cluster.sh up      install (Debian packages, only when missing) and start it
#   .ci/slurm-cluster.sh down    stop its daemons (by PID); the rig folder stays for its logs
#
# Daemons start in the foreground order SLURM needs: mariadbd -> munged -> slurmdbd (+ cluster,
# account and user in sacctmgr) -> slurmctld -> slurmd. One node, one partition "cpu" with the
# machine's CPUs and SLURM_NODE_MEM_MB (default 20000) of memory. Needs root (it is a test rig).
# Its configuration goes where every SLURM command and job step looks (/etc/slurm/slurm.conf and
# slurmdbd.conf; a job step does not see a SLURM_CONF of the submitting shell), and it refuses to
# replace a configuration it did not write. State and logs live in SLURM_RIG (/tmp/lmanatomy-slurm).
set -euo pipefail
RIG=${SLURM_RIG:-/tmp/lmanatomy-slurm}
CPUS=${SLURM_NODE_CPUS:-$(nproc)}
MEM=${SLURM_NODE_MEM_MB:-20000}
NODE=$(hostname -s)
CONF_DIR=/etc/slurm
MARK="# written by lm-anatomy .ci/slurm-cluster.sh"
PACKAGES=(slurm-wlm slurmdbd mariadb-server munge)

log() { echo "[slurm-cluster] $*" >&2; }

install() {
  local missing=()
  for p in "${PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
  fi
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local limit=$1 what=$2; shift 2
  for _ in $(seq 1 $((limit * 4))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
  log "$what did not come up in $limit s; logs in $RIG"; return 1
}

write_configs() {
  mkdir -p "$RIG"/{state,spool,log} "$CONF_DIR"
  if [[ -f $CONF_DIR/slurm.conf ]] && ! grep -qF "$MARK" "$CONF_DIR/slurm.conf"; then
    log "$CONF_DIR/slurm.conf exists and is not this rig's: not replacing it"; exit 1
  fi
  cat >"$CONF_DIR/slurm.conf" <<CONF
$MARK
ClusterName=lmanatomy
SlurmctldHost=$NODE
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$RIG/state
SlurmdSpoolDir=$RIG/spool
SlurmctldPidFile=$RIG/slurmctld.pid
SlurmdPidFile=$RIG/slurmd.pid
SlurmctldLogFile=$RIG/log/slurmctld.log
SlurmdLogFile=$RIG/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=600
NodeName=$NODE CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=cpu Nodes=ALL Default=YES MaxTime=24:00:00 State=UP
CONF
  cat >"$CONF_DIR/slurmdbd.conf" <<CONF
$MARK
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
PidFile=$RIG/slurmdbd.pid
LogFile=$RIG/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=root
StorageLoc=lmanatomy_slurm_acct
CONF
  chmod 600 "$CONF_DIR/slurmdbd.conf"
}

up() {
  install
  write_configs
  mkdir -p /run/mysqld /run/munge
  if ! mariadb-admin ping >/dev/null 2>&1; then
    log "starting mariadbd"
    mariadbd --user=root --skip-networking=0 --bind-address=127.0.0.1 >"$RIG/log/mariadb.log" 2>&1 &
    echo $! >"$RIG/mariadbd.pid"
    wait_for 60 mariadbd mariadb-admin ping
  fi
  if ! pgrep -x munged >/dev/null; then
    log "starting munged"
    munged --force
    pgrep -xo munged >"$RIG/munged.pid"
  fi
  log "starting slurmdbd"
  slurmdbd
  wait_for 60 slurmdbd sacctmgr -n list cluster
  sacctmgr -i add cluster lmanatomy >/dev/null 2>&1 || true
  sacctmgr -i add account lmanatomy Cluster=lmanatomy Description=ci Organization=ci >/dev/null 2>&1 || true
  sacctmgr -i add user root Account=lmanatomy DefaultAccount=lmanatomy >/dev/null 2>&1 || true
  log "starting slurmctld and slurmd"
  slurmctld -c  # a clean slate: no job of an earlier rig run comes back
  wait_for 60 slurmctld scontrol ping
  slurmd
  wait_for 60 "the node" bash -c "sinfo -h -N -o %T | grep -qE '^(idle|mixed)'"
  log "up: $(sinfo -h -o '%P %D nodes %c CPUs %m MB %l')"
}

down() {
  for d in slurmd slurmctld slurmdbd munged mariadbd; do
    local pidfile=$RIG/$d.pid
    [[ -f $pidfile ]] || continue
    local pid; pid=$(cat "$pidfile")
    if kill "$pid" 2>/dev/null; then
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  done
  log "down"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
