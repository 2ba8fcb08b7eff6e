# SPDX-License-Identifier: BSD-3-Clause
"""The torch networks of DeepLog's two models and the skorch pieces that train them.

Importing it imports torch and skorch: the estimators import it only when they
build, train, score or restore a network.
"""

import sys

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler
from tqdm.auto import tqdm

from ._detector import KEY_OFFSET, UNKNOWN_CODE

__all__ = [
    "EpochProgress",
    "LogKeyLSTM",
    "MaskedMSELoss",
    "ValueLSTM",
    "WeightedNeuralNet",
    "batch_loader",
    "grow_state_dict",
]


class LogKeyLSTM(nn.Module):
    """Predict the next log key from the previous ones.

    Parameters
    ----------
    n_keys : int
        Size of the vocabulary.
    embedding_dim : int
        Size of a key's embedding.
    hidden_size : int
        Number of LSTM units per layer.
    num_layers : int
        Number of stacked LSTM layers.
    session_end : bool
        Whether the end of a session is a class of its own (output 0).

    Notes
    -----
    Input index ``PAD_CODE`` is the "no event" marker, ``UNKNOWN_CODE`` a key unseen
    in training and ``j + KEY_OFFSET`` the vocabulary key ``j``. Output ``j`` is the
    logit of key ``j``, shifted by one when ``session_end`` puts the end-of-session
    class first. New keys are appended at the end of both, so a grown module keeps
    every learned index.
    """

    def __init__(self, n_keys, embedding_dim, hidden_size, num_layers, session_end):
        super().__init__()
        self.session_end = session_end
        self.embedding = nn.Embedding(n_keys + KEY_OFFSET, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, num_layers, batch_first=True)
        self.output = nn.Linear(hidden_size, n_keys + int(session_end))

    @staticmethod
    def state_shapes(n_keys, embedding_dim, hidden_size, num_layers, session_end):
        """The shapes of the state dict of a module built with these parameters.

        Computed, not built: a saved state is checked against them before a
        network of the sizes a (possibly altered) file claims is allocated.
        """
        return _stack_shapes(
            n_keys + KEY_OFFSET,
            embedding_dim,
            embedding_dim,
            hidden_size,
            num_layers,
            n_keys + int(session_end),
        )

    def load_grown_state(self, old_state):
        """Load the learned state of this module before its vocabulary grew.

        See :func:`grow_state_dict` for how the new keys start.

        Parameters
        ----------
        old_state : dict of str to torch.Tensor
            State dict of the module with the smaller vocabulary.
        """
        n_old_keys = old_state["embedding.weight"].shape[0] - KEY_OFFSET
        self.load_state_dict(
            grow_state_dict(old_state, self.state_dict(), n_old_keys, self.session_end)
        )

    def forward(self, context, sample_weight=None):
        """Logits of the next key after each context.

        Parameters
        ----------
        context : torch.LongTensor of shape (n_windows, window)
            Embedding indices of the context keys, oldest first.
        sample_weight : torch.Tensor, default=None
            Ignored here; consumed by the loss (skorch passes every input field).

        Returns
        -------
        logits : torch.Tensor of shape (n_windows, n_outputs)
        """
        hidden, _ = self.lstm(self.embedding(context))
        return self.output(hidden[:, -1])

    def forward_shared_prefixes(self, context):
        """Logits of the next key after each context, each prefix run once.

        Equals :meth:`forward` up to rounding, for far less work on real logs:
        the contexts of sliding windows share their prefixes (on HDFS, 18,305
        distinct contexts of 10 keys have 64,931 distinct prefixes, not 183,050),
        and each LSTM step runs on the distinct prefixes of its length only.

        Parameters
        ----------
        context : ndarray of shape (n_windows, window), dtype int64
            Embedding indices of the context keys, oldest first.

        Returns
        -------
        logits : torch.Tensor of shape (n_windows, n_outputs)
        """
        lstm = self.lstm
        n_codes = self.embedding.num_embeddings
        device = self.output.weight.device
        # tanh(x) = 2 sigmoid(2x) - 1: doubling the weights of the cell-input gate
        # g makes one sigmoid over all four gates (torch's order: i, f, g, o).
        scale = torch.ones(4, lstm.hidden_size, dtype=self.output.weight.dtype)
        scale[2] = 2.0
        scale = scale.to(device).reshape(-1, 1)
        weights = [
            [
                scale * getattr(lstm, f"weight_ih_l{layer}"),
                scale * getattr(lstm, f"weight_hh_l{layer}"),
                scale.ravel()
                * (
                    getattr(lstm, f"bias_ih_l{layer}")
                    + getattr(lstm, f"bias_hh_l{layer}")
                ),
            ]
            for layer in range(lstm.num_layers)
        ]
        # The first layer's input term depends on the key alone: one row per code.
        w_ih, _, bias = weights[0]
        input_terms = torch.addmm(bias, self.embedding.weight, w_ih.T)
        zeros = self.output.weight.new_zeros(1, lstm.hidden_size)
        hidden, cell = [zeros] * lstm.num_layers, [zeros] * lstm.num_layers
        prefix = np.zeros(len(context), dtype=np.int64)  # state row of each window
        for step in range(context.shape[1]):
            prefixes, prefix = _distinct(prefix * n_codes + context[:, step])
            parent = torch.as_tensor(prefixes // n_codes, device=device)
            codes = torch.as_tensor(prefixes % n_codes, device=device)
            for layer, (w_ih, w_hh, bias) in enumerate(weights):
                if layer:  # the input is the layer below's output at this step
                    gates = torch.addmm(bias, hidden[layer - 1], w_ih.T)
                else:
                    gates = input_terms[codes]
                gates.addmm_(hidden[layer][parent], w_hh.T).sigmoid_()
                i, f, g, o = gates.chunk(4, dim=1)
                cell[layer] = torch.addcmul(f * cell[layer][parent], i, 2.0 * g - 1.0)
                hidden[layer] = o * cell[layer].tanh()
        return self.output(hidden[-1][torch.as_tensor(prefix, device=device)])


def _distinct(values):
    """``np.unique(values, return_inverse=True)``, without a sort if already sorted.

    Contexts sorted row-wise (as the detector's distinct contexts are) give
    sorted prefix codes at every step: then a linear pass finds the distinct ones.
    """
    if values.size and (values[1:] >= values[:-1]).all():
        first = np.empty(values.size, dtype=bool)
        first[0] = True
        np.not_equal(values[1:], values[:-1], out=first[1:])
        return values[first], np.cumsum(first) - 1
    return np.unique(values, return_inverse=True)


def grow_state_dict(old_state, new_state, n_old_keys, session_end):
    """Copy learned weights into the state of a module with a larger vocabulary.

    New embedding rows start as the "unknown key" embedding (so a context that held
    the key before it was learned is read as before). New outputs start with zero
    weights and the lowest learned bias: a new key starts among the least likely,
    close enough to learn it in a few updates, and the learned logits stay as they
    were.

    Parameters
    ----------
    old_state, new_state : dict of str to torch.Tensor
        State dicts of the old and the grown module; ``new_state`` is filled in place.
    n_old_keys : int
        Vocabulary size of the old module.
    session_end : bool
        Whether the modules have the end-of-session output.

    Returns
    -------
    new_state : dict of str to torch.Tensor
    """
    n_in = n_old_keys + KEY_OFFSET
    n_out = n_old_keys + int(session_end)
    with torch.no_grad():
        for name, old in old_state.items():
            new = new_state[name]
            if name == "embedding.weight":
                new[:n_in] = old
                new[n_in:] = old[UNKNOWN_CODE]
            elif name == "output.weight":
                new[:n_out] = old
                new[n_out:] = 0.0
            elif name == "output.bias":
                new[:n_out] = old
                new[n_out:] = old.min()
            else:
                new.copy_(old)
    return new_state


class WeightedNeuralNet(NeuralNet):
    """skorch net whose loss weights each distinct window by its count."""

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = super().get_loss(y_pred, y_true, X=X, training=training)
        return (loss * X["sample_weight"].to(loss.device)).mean()


class ValueLSTM(nn.Module):
    """Predict an entry's parameter vector from the previous vectors of its key.

    Each step of the input holds a previous vector (standardised, 0 where absent)
    and its presence mask, next to the embedding of the key being predicted.
    """

    def __init__(self, n_keys, n_values, embedding_dim, hidden_size, num_layers):
        super().__init__()
        self.embedding = nn.Embedding(n_keys, embedding_dim)
        self.lstm = nn.LSTM(
            2 * n_values + embedding_dim, hidden_size, num_layers, batch_first=True
        )
        self.output = nn.Linear(hidden_size, n_values)

    @staticmethod
    def state_shapes(n_keys, n_values, embedding_dim, hidden_size, num_layers):
        """The shapes of the state dict of a module built with these parameters.

        See :meth:`LogKeyLSTM.state_shapes`.
        """
        return _stack_shapes(
            n_keys,
            embedding_dim,
            2 * n_values + embedding_dim,
            hidden_size,
            num_layers,
            n_values,
        )

    def load_grown_state(self, old_state):
        """Load the learned state of this module before new keys were added.

        The new keys keep the embeddings they were initialised with.

        Parameters
        ----------
        old_state : dict of str to torch.Tensor
            State dict of the module with fewer keys.
        """
        state = self.state_dict()
        with torch.no_grad():
            for name, old in old_state.items():
                state[name][: len(old)] = old
        self.load_state_dict(state)

    def forward(self, key, history):
        embedded = self.embedding(key)[:, None, :].expand(-1, history.shape[1], -1)
        hidden, _ = self.lstm(torch.cat([history, embedded], dim=2))
        return self.output(hidden[:, -1])


class MaskedMSELoss(nn.Module):
    """Mean squared error over the present dimensions of each entry.

    The target holds the values, then their presence mask (1 where present).
    """

    def forward(self, prediction, target):
        values, present = target.chunk(2, dim=1)
        squared = present * (prediction - values) ** 2
        return (squared.sum(dim=1) / present.sum(dim=1)).mean()


class EpochProgress(Callback):
    """One progress bar over the training epochs, the training loss in its postfix.

    Parameters
    ----------
    epochs : int
        Number of epochs of the training run, the total of the bar.
    """

    def __init__(self, epochs):
        self.epochs = epochs

    def on_train_begin(self, net, **kwargs):
        self.bar_ = tqdm(
            total=self.epochs, desc="training", unit="epoch", file=sys.stderr
        )

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1, "train_loss"]
        self.bar_.set_postfix(loss=f"{loss:.4g}", refresh=False)
        self.bar_.update()

    def on_train_end(self, net, **kwargs):
        # Closed and dropped: a net holding an open bar could not be copied.
        self.bar_.close()
        del self.bar_


def batch_loader(dataset, batch_size, shuffle=False):
    """Mini-batches of a skorch dataset, each taken in one indexing operation.

    skorch's ``iterator_train`` for the nets of this package. torch's default
    loader takes a batch item by item and collates the items: a fifth of the
    log-key detector's training time on HDFS, a twentieth of the value model's.
    """
    order = RandomSampler(dataset) if shuffle else SequentialSampler(dataset)
    batches = BatchSampler(order, batch_size, drop_last=False)
    return DataLoader(dataset, sampler=batches, batch_size=None)


def _stack_shapes(
    n_embeddings, embedding_dim, input_size, hidden_size, num_layers, n_outputs
):
    """State-dict shapes of the modules ``embedding``, ``lstm`` and ``output``."""
    shapes = {"embedding.weight": (n_embeddings, embedding_dim)}
    for layer in range(num_layers):
        size = input_size if layer == 0 else hidden_size
        shapes[f"lstm.weight_ih_l{layer}"] = (4 * hidden_size, size)
        shapes[f"lstm.weight_hh_l{layer}"] = (4 * hidden_size, hidden_size)
        shapes[f"lstm.bias_ih_l{layer}"] = (4 * hidden_size,)
        shapes[f"lstm.bias_hh_l{layer}"] = (4 * hidden_size,)
    shapes["output.weight"] = (n_outputs, hidden_size)
    shapes["output.bias"] = (n_outputs,)
    return shapes
