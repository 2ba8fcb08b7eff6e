# SPDX-License-Identifier: BSD-3-Clause
"""The base of the outlier detectors that own a torch network.

Importing this module does not import torch (nor do the estimators' modules):
torch is imported when a network is built, trained, scored or restored.
"""

import contextlib
import copy
import inspect
import threading
import warnings
import weakref
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ._outlier import OffsetDecisionMixin
from ._persistence import check_saved_version, current_version

__all__ = ["TorchDetector", "resolve_device", "weights_version"]

# Held while a fit uses torch's process-wide random generator (see seeded_rng).
_TORCH_RNG_LOCK = threading.RLock()
# The float64 scoring copy of each network, with its weights' versions (see
# TorchDetector._scoring_module); an entry goes with its network.
_SCORING_COPIES = weakref.WeakKeyDictionary()


class TorchDetector(OffsetDecisionMixin, OutlierMixin, BaseEstimator):
    """Base of the outlier detectors that own a skorch net ``net_``.

    A subclass has the parameters of the constraints below, and its own; it
    gives its network's class, module and loss in ``_network_parts``. Once
    fitted, it has the attribute ``device_`` and ``net_``, which may be None for
    a fitted detector that has nothing to learn.
    """

    _parameter_constraints: dict = {
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "num_layers": [Interval(Integral, 1, None, closed="left")],
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "device": [str],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    @contextlib.contextmanager
    def _fitting(self):
        """Fit on ``n_threads`` threads; on Ctrl-C, leave the detector unfitted.

        Ctrl-C during training is skorch's: it stops training and keeps the net
        (see :meth:`_train`). Anywhere else, an interrupt between two
        assignments (e.g. a grown vocabulary before its grown network) would
        leave a model that looks fitted but is not consistent: every fitted
        attribute (a name ending in "_", scikit-learn's convention) is removed.
        """
        try:
            with self._torch_threads():
                yield
        except KeyboardInterrupt:
            fitted = [
                v for v in vars(self) if v.endswith("_") and not v.startswith("__")
            ]
            for name in fitted:
                delattr(self, name)
            raise

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

    def _build_net(self):
        """A new skorch net of the parts ``_network_parts`` gives, on ``device_``."""
        import torch

        from ._network import batch_loader

        net_class, parts = self._network_parts()
        return net_class(
            **parts,
            module__embedding_dim=self.embedding_dim,
            module__hidden_size=self.hidden_size,
            module__num_layers=self.num_layers,
            optimizer=torch.optim.Adam,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=None,
            iterator_train=batch_loader,
            iterator_train__shuffle=True,
            device=self.device_,
            verbose=0,  # no epoch table: _train shows progress as verbose says
        )

    def _grow_net(self, n_keys):
        """Give the module ``n_keys`` keys, keeping the learned weights.

        The module's ``load_grown_state`` says how its new keys start. skorch
        re-creates the optimizer: Adam's moment estimates restart.
        """
        old_state = copy.deepcopy(self.net_.module_.state_dict())
        with warnings.catch_warnings():
            # skorch announces the re-initialisation that load_grown_state undoes.
            warnings.simplefilter("ignore")
            self.net_.set_params(module__n_keys=n_keys)
        self.net_.module_.load_grown_state(old_state)

    def _train(self, X, y, epochs):
        """Train ``net_`` ``epochs`` more epochs with ``lr`` and ``verbose`` as now.

        ``verbose`` 1 shows one progress bar over the epochs, the training loss in
        its postfix; 2 also a progress bar over the batches of each epoch. Ctrl-C
        stops training as skorch does, keeping the weights learned so far, and a
        warning says how many epochs were completed.
        """
        from skorch.callbacks import ProgressBar

        from ._network import EpochProgress

        callbacks = [EpochProgress(epochs)] if self.verbose >= 1 else []
        if self.verbose >= 2:
            callbacks.append(ProgressBar())
        self.net_.set_params(lr=self.lr, callbacks=callbacks)
        # skorch's set_params keeps the callbacks of an initialized net.
        self.net_.initialize_callbacks()
        epochs_before = len(self.net_.history) if self.net_.initialized_ else 0
        self.net_.partial_fit(X, y, epochs=epochs)
        completed = sum(
            "train_loss" in row for row in self.net_.history[epochs_before:]
        )
        if completed < epochs:
            warnings.warn(
                f"Training was interrupted (Ctrl-C) after {completed} of {epochs} "
                "epoch(s); the detector keeps the weights learned so far and can be "
                "used, or trained further with partial_fit.",
                UserWarning,
                stacklevel=2,
            )

    def _scoring_module(self):
        """A float64 copy of the module, in evaluation mode.

        Scoring runs in float64 so that an entry's score does not depend on the
        batch it is computed in (float32 products differ by ~1e-6 with batching).
        The copy is kept until the module or its weights change (training bumps
        the weights' version counters), so small scoring calls (a stream's) do
        not copy the network each time.
        """
        module = self.net_.module_
        versions = weights_version(module)
        cached = _SCORING_COPIES.get(module)
        if cached is None or cached[0] != versions:
            cached = (versions, copy.deepcopy(module).double().eval())
            _SCORING_COPIES[module] = cached
        return cached[1]

    def __getstate__(self):
        state = dict(super().__getstate__())
        state["_deeplog_version"] = current_version()
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
        check_saved_version(state.pop("_deeplog_version", None))
        fitted = "_net_state" in state
        net_state = state.pop("_net_state", None)
        # Parameters added since the model was saved take their defaults, which
        # keep the behaviour of before (e.g. n_threads, false_alarms).
        defaults = inspect.signature(type(self).__init__).parameters
        for name in self._get_param_names():
            state.setdefault(name, defaults[name].default)
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


def weights_version(module):
    """A value that changes whenever the weights of a torch `module` change.

    Torch counts the in-place changes of each tensor (an optimizer's steps, a
    ``load_state_dict``); weights replaced (``param.data = ...``, new
    parameters) change their memory. This is the tuple of both, by parameter.
    """
    return tuple(
        (id(weights), weights.data_ptr(), weights._version)
        for weights in module.parameters()
    )


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
