#!/usr/bin/env bash
# The SLURM profile on a real one-node cluster (.ci/slurm-cluster.sh): a few targets of the reduced
# config through workflow/profiles/slurm — model jobs (conversion, census, extraction), an analysis
# job (a redundancy pair fit) and jobs the profile keeps local (data preparation, the split) —
# then a local dry-run that must have nothing to do, then a cancelled job that must end the run
# with an error naming it. Run from the repository root: `bash .ci/slurm-check.sh` (root needed).
set -euo pipefail
cd "$(dirname "$0")/.."
SNAKEMAKE=${SNAKEMAKE:-.venv/bin/snakemake}
RUN=slurm-check
OUT=results/$RUN
RIG=${SLURM_RIG:-/tmp/lmanatomy-slurm}
TARGETS=("$OUT/census/table3.csv" "$OUT/redundancy/smollm2-135m/pairs/layer03.parquet")
say() { echo "[slurm-check] $*"; }

.ci/slurm-cluster.sh up
trap '.ci/slurm-cluster.sh down' EXIT
mkdir -p "$RIG"
# The rig's one partition, as the profile's partitions.yaml would describe it.
cat >"$RIG/partitions.yaml" <<YAML
partitions:
  cpu: {max_runtime: 1440, max_threads: $(nproc), max_mem_mb: 20000, max_gpu: 0}
YAML
# The profile as a user runs it, with the rig's node size and status polling tuned for a test.
profile() {
  "$SNAKEMAKE" --workflow-profile workflow/profiles/slurm --configfile config/test/reduced.yaml \
    --config run=$RUN --max-threads "$(nproc)" --slurm-partition-config "$RIG/partitions.yaml" \
    --slurm-no-account --slurm-init-seconds-before-status-checks 5 --retries 0 "$@"
}
rm -rf "$OUT"

say "1. targets through the profile"
start=$(date +%s)
profile -- "${TARGETS[@]}" >"$RIG/run.log" 2>&1 || { tail -50 "$RIG/run.log"; exit 1; }
submitted=$(grep -c "submitted with SLURM jobid" "$RIG/run.log" || true)
say "   $submitted jobs on SLURM in $(( $(date +%s) - start )) s"
for t in "${TARGETS[@]}"; do [[ -s $t ]] || { say "missing output $t"; exit 1; }; done
# A grouped rule (the profile's `groups:`) runs as group_<group>_<rule> in the plugin's log paths.
for rule in census_table3 extract redundancy_fit_pair; do
  grep -Eq "(rule|group_[a-z_]+)_$rule/" "$RIG/run.log" || { say "$rule did not run on SLURM"; exit 1; }
done
for rule in prepare_dataset redundancy_split; do
  if grep -q "rule_$rule" "$RIG/run.log"; then say "$rule should be local but ran on SLURM"; exit 1; fi
done
grep -q "No partition\|No suitable partition" "$RIG/run.log" && { say "a job fit no partition"; exit 1; }

say "2. a local dry-run has nothing to do"
dry=$("$SNAKEMAKE" -n --configfile config/test/reduced.yaml --config run=$RUN -- "${TARGETS[@]}" 2>&1)
grep -q "Nothing to be done" <<<"$dry" || { echo "$dry" | tail -30; exit 1; }

say "3. a cancelled job ends the run with an error naming it"
rm -f "$OUT/redundancy/smollm2-135m/pairs/layer04.parquet"
profile -- "$OUT/redundancy/smollm2-135m/pairs/layer04.parquet" >"$RIG/cancel.log" 2>&1 &
pid=$!
for _ in $(seq 1 240); do
  job=$(squeue -h -o %i | head -1); [[ -n $job ]] && break; sleep 0.5
done
[[ -n ${job:-} ]] || { say "no job was submitted"; kill $pid; exit 1; }
scancel "$job"
for _ in $(seq 1 360); do kill -0 $pid 2>/dev/null || break; sleep 0.5; done
if kill -0 $pid 2>/dev/null; then say "the run did not end within 180 s of scancel"; kill $pid; exit 1; fi
if wait $pid; then say "the run succeeded although its job was cancelled"; exit 1; fi
# redundancy_fit_pair is grouped (redundancy_fits): the error names the rule or its group job.
error=$(grep -Eo "Error in (rule redundancy_fit_pair|group redundancy_fits)" "$RIG/cancel.log" | head -1)
[[ -n $error ]] || { tail -30 "$RIG/cancel.log"; exit 1; }
say "   cancelled SLURM job $job: the run stopped with '$error'"
rm -rf "$OUT"
say "passed"
