"""A TFLite model run through ai-edge-litert, with outputs looked up by tensor name."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

log = logging.getLogger(__name__)


class TfliteModel:
    """One interpreter; the caller writes the input in place, then reads outputs by name."""

    def __init__(self, path: Path, num_threads: int) -> None:
        self.interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
        self.interpreter.allocate_tensors()
        (detail,) = self.interpreter.get_input_details()
        self.input_index = detail["index"]
        self.input_shape = tuple(int(v) for v in detail["shape"])  # (1, height, width, 3)
        self.outputs = {d["name"]: d["index"] for d in self.interpreter.get_output_details()}
        log.debug("loaded %s: input %s, outputs %s", path, self.input_shape, sorted(self.outputs))

    def require(self, *names: str) -> None:
        """Fail early, naming what the file has, when an expected output tensor is missing."""
        missing = [n for n in names if n not in self.outputs]
        if missing:
            raise ValueError(f"model has no output tensor {missing}; it has {sorted(self.outputs)}")

    def input_view(self) -> np.ndarray:
        """The interpreter's own (height, width, 3) input buffer. Write into it, and drop the
        reference before `run` (the runtime refuses to invoke while views are alive)."""
        return self.interpreter.tensor(self.input_index)()[0]

    def run(self, *names: str) -> list[np.ndarray]:
        """Invoke on the input written through `input_view`; the named outputs without batch axis."""
        self.interpreter.invoke()
        return [self.interpreter.get_tensor(self.outputs[name])[0] for name in names]
