"""An llm-jp-eval (v1.1) compatible evaluation harness, usable by any study.

Task files in llm-jp-eval's format (``tasks``), its prompt template (``prompts``), batched greedy
generation with a shared-prefix KV cache (``generation``), its scoring (``scoring``) and the loop
tying them together (``harness``). Attributes are imported on first use so that scoring and task
building do not pay for importing torch and transformers.
"""

from __future__ import annotations

from lmanatomy.lazy import lazy_exports

_EXPORTS = {
    "GenerationSettings": "generation",
    "generate": "generation",
    "evaluate": "harness",
    "evaluate_task": "harness",
    "render_prompt": "prompts",
    "normalize": "scoring",
    "parse_float": "scoring",
    "postprocess": "scoring",
    "score": "scoring",
    "TASKS": "tasks",
    "VERSIONS": "versions",
    "fixed_fewshot_frame": "tasks",
    "TaskSpec": "tasks",
    "build_task": "tasks",
    "task_spec": "tasks",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
