# SPDX-License-Identifier: BSD-3-Clause
"""What the estimators owning a torch network share: device, threads, training, saving.

Importing this module does not import torch (nor do the estimators' modules):
torch is imported when a network is built, trained, scored or restored.
"""

import contextlib
import threading
import warnings

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._persistence import _check_saved_version, _current_version

__all__ = ["TorchNetMixin", "resolve_device"]

# Held while a fit uses torch's process-wide random generator (see seeded_rng).
_TORCH_RNG_LOCK = threading.RLock()


class TorchNetMixin:
    """Mixin for an estimator that owns a skorch net ``net_`` built by ``_build_net``.

    It expects the parameters ``lr``, ``n_threads``, ``random_state`` and
    ``verbose`` and, once fitted, the attribute ``device_``; ``net_`` may be None
    for a fitted estimator that has nothing to learn.
    """

    @contextlib.contextmanager
    def _torch_threads(self):
        """Run torch on ``n_threads`` cpu threads, then restore torch's setting."""
        import torch

        if self.n_threads is None:
            yield
            return
        previous = torch.get_num_threads()
        torch.set_num_threads(self.n_threads)
        try:
            yield
        finally:
            torch.set_num_threads(previous)

    @contextlib.contextmanager
    def _scoring(self):
        """Check the model, then score on ``n_threads`` threads.

        The parameters are checked again: ``set_params`` may have changed them
        since :meth:`fit`.
        """
        check_is_fitted(self)
        self._validate_params()
        with self._torch_threads():
            yield

    @contextlib.contextmanager
    def _seeded_rng(self):
        """Fork torch's random state and seed it from ``random_state``.

        Torch's generator is global to the process: fits in threads (e.g. joblib's
        threading backend) take turns, or they would draw from each other's seeds.
        """
        import torch

        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        device = torch.device(self.device_)
        devices = [device.index or 0] if device.type == "cuda" else []
        with _TORCH_RNG_LOCK, torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            yield

    def _train(self, X, y, epochs):
        """Train ``net_`` ``epochs`` more epochs with ``lr`` and ``verbose`` as now.

        ``verbose`` 1 shows one progress bar over the epochs, the training loss in
        its postfix; 2 also a progress bar over the batches of each epoch.
        """
        from skorch.callbacks import ProgressBar

        from ._network import EpochProgress

        callbacks = [EpochProgress(epochs)] if self.verbose >= 1 else []
        if self.verbose >= 2:
            callbacks.append(ProgressBar())
        self.net_.set_params(lr=self.lr, callbacks=callbacks)
        # skorch's set_params keeps the callbacks of an initialized net.
        self.net_.initialize_callbacks()
        self.net_.partial_fit(X, y, epochs=epochs)

    def __getstate__(self):
        state = dict(super().__getstate__())
        state["_deeplog_version"] = _current_version()
        if "net_" in state:
            net = state.pop("net_")
            # Device-independent numpy state: loads on any machine, cuda or not.
            state["_net_state"] = None
            if net is not None:
                state["_net_state"] = {
                    "module": _to_numpy(net.module_.state_dict()),
                    "optimizer": _to_numpy(net.optimizer_.state_dict()),
                }
        return state

    def __setstate__(self, state):
        state = dict(state)
        _check_saved_version(state.pop("_deeplog_version", None))
        fitted = "_net_state" in state
        net_state = state.pop("_net_state", None)
        state.setdefault("n_threads", 1)  # saved before the parameter existed
        super().__setstate__(state)
        if not fitted:
            return
        # A fitted model's parameters built its network: check them first.
        self._validate_params()
        self.net_ = None
        if net_state is None:
            return
        if not _usable(self.device_):
            warnings.warn(
                f"This model was trained on device {self.device_!r}, which is not "
                "available here; it is loaded on the cpu.",
                UserWarning,
                stacklevel=2,
            )
            self.device_ = "cpu"
        self.net_ = self._build_net()
        _check_saved_shapes(self.net_, net_state["module"])
        self.net_.initialize()
        self.net_.module_.load_state_dict(_to_torch(net_state["module"], self.device_))
        # torch moves the optimizer state to the parameters' device itself.
        self.net_.optimizer_.load_state_dict(_to_torch(net_state["optimizer"], "cpu"))


def resolve_device(device):
    """'auto' -> cuda when available, else cpu; refuse a device not usable here."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        torch.device(device)
    except RuntimeError as err:
        raise ValueError(f"device={device!r} is not a torch device: {err}") from err
    if not _usable(device):
        raise ValueError(
            f"device={device!r} is not available on this machine: torch trains on "
            "the cpu, or on a GPU that is present with a torch build for it (cuda, "
            "mps). Use device='auto' or device='cpu'."
        )
    return device


def _usable(device):
    """Whether torch can train on ``device`` (a device string) on this machine."""
    import torch

    try:
        kind = torch.device(device).type
    except (RuntimeError, TypeError):
        return False
    if kind == "cuda":
        return torch.cuda.is_available()
    if kind == "mps":
        return torch.backends.mps.is_available()
    return kind == "cpu"


def _check_saved_shapes(net, module_state):
    """Refuse saved weights that do not fit the network the parameters describe.

    The shapes are computed from the parameters (``state_shapes`` of the
    module), nothing is allocated: parameters altered to describe a huge network
    are refused before it is built.
    """
    expected = net.module.state_shapes(**net.get_params_for("module"))
    saved = {
        name: getattr(value, "shape", None) for name, value in module_state.items()
    }
    for name in [*expected, *(name for name in saved if name not in expected)]:
        if saved.get(name) != expected.get(name):
            raise ValueError(
                f"The saved network weights do not match the model's parameters: "
                f"{name!r} has shape {saved.get(name)}, the parameters make it "
                f"{expected.get(name)}. The model is damaged."
            )


def _to_numpy(state):
    """Torch tensors in a (nested) state dict -> numpy arrays."""
    import torch

    if isinstance(state, torch.Tensor):
        return state.detach().cpu().numpy()
    if isinstance(state, dict):
        return {key: _to_numpy(value) for key, value in state.items()}
    if isinstance(state, list):
        return [_to_numpy(value) for value in state]
    return state


def _to_torch(state, device):
    """Inverse of :func:`_to_numpy`, onto ``device``."""
    import torch

    if isinstance(state, np.ndarray):
        return torch.as_tensor(state, device=device)
    if isinstance(state, dict):
        return {key: _to_torch(value, device) for key, value in state.items()}
    if isinstance(state, list):
        return [_to_torch(value, device) for value in state]
    return state
