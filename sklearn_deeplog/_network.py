# SPDX-License-Identifier: BSD-3-Clause
"""The torch module of DeepLog's log-key model: embedding -> LSTM -> linear."""

import numpy as np
import torch
from torch import nn

__all__ = ["LogKeyLSTM"]

#: Embedding index of the "no event" padding marker (context only).
PAD_CODE = 0
#: Embedding index shared by all keys unseen in training (context only).
UNKNOWN_CODE = 1
#: Embedding index of the first vocabulary key; key ``j`` has index ``j + KEY_OFFSET``.
KEY_OFFSET = 2


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
        self.embedding = nn.Embedding(n_keys + KEY_OFFSET, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, num_layers, batch_first=True)
        self.output = nn.Linear(hidden_size, n_keys + int(session_end))

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
