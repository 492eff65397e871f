"""A TFLite model run through ai-edge-litert, with outputs looked up by tensor name."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter


class TfliteModel:
    def __init__(self, path: Path, num_threads: int) -> None:
        self.interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
        self.interpreter.allocate_tensors()
        (detail,) = self.interpreter.get_input_details()
        self.input_index = detail["index"]
        self.input_shape = tuple(int(v) for v in detail["shape"])  # (1, height, width, 3)
        self.outputs = {d["name"]: d["index"] for d in self.interpreter.get_output_details()}

    def __call__(self, tensor: np.ndarray, *names: str) -> list[np.ndarray]:
        """Run on one (height, width, 3) float32 tensor; returns the named outputs without batch axis."""
        self.interpreter.set_tensor(self.input_index, tensor[None])
        self.interpreter.invoke()
        return [self.interpreter.get_tensor(self.outputs[name])[0] for name in names]
