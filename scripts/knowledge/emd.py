"""EMD between the knowledge-neuron trajectories of one block of word pairs."""

from lmanatomy.knowledge.emd import distances
from lmanatomy.knowledge.plan import shard_pairs
from lmanatomy.knowledge.trajectories import point_clouds, read_trajectories
from lmanatomy.runtime import script_context
from lmanatomy.tables import write_table

with script_context(snakemake, uses_torch=False) as log:
    p = snakemake.params
    clouds = point_clouds(read_trajectories(snakemake.input.trajectories))
    pairs = shard_pairs(p.words, p.shards)[snakemake.wildcards.shard]
    table = distances(clouds, pairs, p.metric, p.num_itermax, progress=True)
    log.info("%d pairs", len(table))
    write_table(table, snakemake.output.pairs)
