"""Draw the small real STS pair set the default run's finding 3 reads (data/real/jglue/jsts-v1.1).

JSTS (JGLUE v1.1, CC BY-SA 4.0) is the only sentence-similarity set with a license that allows a
copy in this repository and whose files exist offline here (../shared/data). The paper used STS-B
and SICK (English); they are the paper config's datasets. Usage, from the project root:

    python scripts/paramact/draw_sts_subset.py ../shared/data 48 0

writes the seeded subset (unchanged lines of valid-v1.1.json, in file order) and prints the source's sha256.
"""

import hashlib
import sys
from pathlib import Path

import numpy as np

SOURCE = "jglue/jsts-v1.1/valid-v1.1.json"


def main(root: str, n: int, seed: int) -> None:
    source = Path(root) / SOURCE
    data = source.read_bytes()
    lines = data.decode("utf-8").splitlines(keepends=True)
    keep = sorted(np.random.default_rng(seed).permutation(len(lines))[:n])
    target = Path("data/real") / SOURCE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(lines[i] for i in keep), encoding="utf-8")
    print(f"{target}: {n} of {len(lines)} lines (seed {seed}) of {SOURCE}, source sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
