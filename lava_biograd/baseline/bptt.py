r"""Backpropagation through time (BPTT, "STBP") through the reference LIF dynamics.

This is the backprop baseline that BioGrad is compared with: the same spiking network,
trained by exact reverse-mode differentiation of a loss of the output spike counts, with
the rectangular pseudo-derivative standing in for the derivative of the spike function.

Forward pass, for layer ``l = 1 .. L+1`` (identical to :mod:`lava_biograd.reference`):

.. math::

    p^l_t &= s^{l-1}_t \ (\text{'same\_step'}) \quad\text{or}\quad
             p^l_t = s^{l-1}_{t-1},\ p^l_0 = 0 \ (\text{'delayed'}), \qquad s^0 = x \\
    v^l_t &= \alpha \, v^l_{t-1} \odot (1 - s^l_{t-1}) + W_l p^l_t + b_l \\
    s^l_t &= H(v^l_t - \theta)

Surrogate: ``ds_t/dv_t := sigma'(v_t) = A 1[|v_t - theta| < w]`` everywhere, the reset
term included, so ``dv_{t+1}/dv_t = alpha (1 - s_t) - alpha v_t sigma'_t``.

Reverse pass for a loss ``L(c_o)`` of the output counts ``c_o = sum_t s^o_t``. The output
layer receives ``dL/ds^o_t = dL/dc_o`` at every step. With ``gs_t = dL/ds_t`` arriving from
above and ``gv_t`` the total derivative with respect to ``v_t``:

.. math::

    gv_t &= \sigma'_t \odot gs_t + \alpha (1 - s_t - v_t \odot \sigma'_t) \odot gv_{t+1},
        \qquad gv_T = 0 \\
    \partial L / \partial W_l &= \textstyle\sum_{n,t} gv_t \, (p^l_t)^\top, \qquad
    \partial L / \partial b_l = \textstyle\sum_{n,t} gv_t \\
    gp_t &= W_l^\top gv_t, \qquad gs^{l-1}_t = gp_t \ (\text{'same\_step'}) \quad\text{or}\quad
        gs^{l-1}_t = gp_{t+1},\ gs^{l-1}_{T-1} = 0 \ (\text{'delayed'})

For a layer whose ``gs_t = g`` is constant in time, ``gv_t = g R_t`` with ``R`` the
backward recursion of the eligibility traces, which is why a BioGrad trace equals the BPTT
derivative of that layer's spike count. Each layer needs one loop over ``T`` for the
recursion (vectorised over batch and neurons) and one GEMM over all ``T`` steps and
samples per gradient.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from lava_biograd.baseline.adam import Adam
from lava_biograd.reference.error import softmax
from lava_biograd.reference.network import BioGradNetwork
from lava_biograd.reference.neuron import lif_run, pseudo_derivative
from lava_biograd.reference.params import TIMINGS, NeuronParams
from lava_biograd.reference.sleep import delay_one_step
from lava_biograd.validation import check_array, check_choice, check_dtype


# ---------------------------------------------------------------------- validation
def _check_parameters(weights, biases, neurons):
    """Return ``(weights, biases, neurons, dtype)`` after checking types and the layer chain."""
    if not isinstance(weights, (list, tuple)):
        raise TypeError(f"weights must be a list of 2-D arrays (n_out, n_in), got {type(weights).__name__}")
    if not weights:
        raise ValueError("weights must contain at least one layer, got an empty list")
    if not isinstance(biases, (list, tuple)) or len(biases) != len(weights):
        count = len(biases) if isinstance(biases, (list, tuple)) else type(biases).__name__
        raise ValueError(f"biases must be a list with one array per layer ({len(weights)}), got {count}")
    weights = [check_array(f"weights[{i}]", w, ndim=2) for i, w in enumerate(weights)]
    biases = [check_array(f"biases[{i}]", b, shape=(w.shape[0],)) for i, (w, b) in enumerate(zip(weights, biases))]
    for i in range(1, len(weights)):
        if weights[i].shape[1] != weights[i - 1].shape[0]:
            raise ValueError(
                f"weights[{i}] must have {weights[i - 1].shape[0]} columns to match the "
                f"{weights[i - 1].shape[0]} outputs of weights[{i - 1}], got shape {weights[i].shape}"
            )
    dtype = check_dtype("weight dtype", np.result_type(*weights, *biases))

    if isinstance(neurons, NeuronParams):
        neurons = [neurons] * len(weights)
    elif not isinstance(neurons, (list, tuple)) or len(neurons) != len(weights):
        raise ValueError(
            f"neurons must be one NeuronParams or a sequence with one per layer ({len(weights)}), "
            f"got {neurons!r}"
        )
    for i, neuron in enumerate(neurons):
        if not isinstance(neuron, NeuronParams):
            raise TypeError(f"neurons[{i}] must be a NeuronParams, got {type(neuron).__name__}")
    return (
        [w.astype(dtype, copy=False) for w in weights],
        [b.astype(dtype, copy=False) for b in biases],
        list(neurons),
        dtype,
    )


def _check_spikes(x, n_in: int, dtype) -> np.ndarray:
    x = check_array("input spikes", x, ndim=3)
    if x.shape[2] != n_in:
        raise ValueError(
            f"input spikes must have shape (T, batch, n_0={n_in}) to match weights[0], got {x.shape}"
        )
    if x.shape[0] < 1:
        raise ValueError(f"input spikes must cover at least one time step, got shape {x.shape}")
    return x.astype(dtype, copy=False)


def _check_grad_counts(grad_counts, batch: int, n_out: int, dtype) -> np.ndarray:
    grad_counts = check_array("grad_counts", grad_counts, shape=(batch, n_out))
    if not np.all(np.isfinite(grad_counts)):
        raise ValueError("grad_counts must be finite, got NaN or inf entries")
    return grad_counts.astype(dtype, copy=False)


# ---------------------------------------------------------------------- forward and reverse pass
def lif_forward(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], neurons, x,
                timing: str = "same_step") -> list:
    """Run the LIF network forward and return ``[(pre, v, s), ...]`` per layer.

    Parameters
    ----------
    weights : list of ndarray of shape (n_l, n_{l-1})
    biases : list of ndarray of shape (n_l,)
    neurons : NeuronParams or sequence of NeuronParams
        One record for all layers, or one per layer.
    x : ndarray of shape (T, batch, n_0)
        Input spikes.
    timing : {'same_step', 'delayed'}, default='same_step'
        ``'delayed'`` delays every connection by one step, the first one included.

    Returns
    -------
    list of tuple
        ``pre`` (the spike train the layer receives, after the delay), the pre-reset
        voltage ``v`` and the spikes ``s``, each of shape ``(T, batch, n)``. The result is
        the same as :meth:`BioGradNetwork.forward` for the same parameters.
    """
    check_choice("timing", timing, TIMINGS)
    weights, biases, neurons, dtype = _check_parameters(weights, biases, neurons)
    inputs = _check_spikes(x, weights[0].shape[1], dtype)
    t_steps, batch, _ = inputs.shape
    layers = []
    for w, b, neuron in zip(weights, biases, neurons):
        pre = delay_one_step(inputs) if timing == "delayed" else inputs
        current = pre.reshape(t_steps * batch, -1) @ w.T
        current += b
        v, s = lif_run(current.reshape(t_steps, batch, -1), neuron)
        layers.append((pre, v, s))
        inputs = s
    return layers


def _voltage_gradient(v, s, grad_spikes, neuron: NeuronParams) -> np.ndarray:
    """Return ``gv`` (T, batch, n) from the reverse recursion over one layer.

    ``grad_spikes`` is ``dL/ds_t`` of shape (T, batch, n), or (batch, n) when it is the
    same at every step.
    """
    dtype = v.dtype
    alpha = dtype.type(neuron.vdecay)
    sd = pseudo_derivative(v, neuron)
    # dv_{t+1}/dv_t divided by alpha: the reset is differentiated through the surrogate.
    carry = 1 - s - v * sd
    constant = grad_spikes.ndim == 2
    gv = np.empty_like(v)
    later = np.zeros_like(v[0])
    for t in range(v.shape[0] - 1, -1, -1):
        upstream = grad_spikes if constant else grad_spikes[t]
        np.multiply(carry[t], later, out=gv[t])
        gv[t] *= alpha
        gv[t] += sd[t] * upstream
        later = gv[t]
    return gv


def bptt_backward(weights: Sequence[np.ndarray], layers: list, neurons, grad_counts,
                  timing: str = "same_step"):
    """Return the BPTT gradients for a forward record from :func:`lif_forward`.

    Parameters
    ----------
    weights : list of ndarray of shape (n_l, n_{l-1})
        The weights that produced ``layers``.
    layers : list of (pre, v, s)
        Forward record, one entry per layer, arrays of shape ``(T, batch, n)``.
    neurons : NeuronParams or sequence of NeuronParams
    grad_counts : ndarray of shape (batch, n_o)
        ``dL/dc_o`` for every sample. The gradients are sums over the batch, so pass
        ``dL/dc_o`` of the batch loss (for a batch mean, this already carries ``1/N``).
    timing : {'same_step', 'delayed'}, default='same_step'
        Must be the timing of the forward pass.

    Returns
    -------
    grad_weights, grad_biases : list of ndarray
        ``dL/dW_l`` and ``dL/db_l`` in the shapes of the weights and biases.
    """
    check_choice("timing", timing, TIMINGS)
    if not isinstance(weights, (list, tuple)):
        raise TypeError(f"weights must be a list of 2-D arrays, got {type(weights).__name__}")
    if not isinstance(layers, (list, tuple)) or len(layers) != len(weights):
        count = len(layers) if isinstance(layers, (list, tuple)) else type(layers).__name__
        raise ValueError(
            f"layers must be the forward record with one (pre, v, s) per layer ({len(weights)}), got {count}"
        )
    zero_biases = [np.zeros(np.shape(w)[0], np.result_type(w)) for w in weights]
    weights, _, neurons, dtype = _check_parameters(weights, zero_biases, neurons)
    checked = []
    for i, (w, layer) in enumerate(zip(weights, layers)):
        if len(layer) != 3:
            raise ValueError(f"layers[{i}] must be a tuple (pre, v, s), got {len(layer)} items")
        pre = check_array(f"layers[{i}] pre", layer[0], ndim=3)
        t_steps, batch = pre.shape[:2]
        pre = check_array(f"layers[{i}] pre", pre, shape=(t_steps, batch, w.shape[1]))
        v = check_array(f"layers[{i}] v", layer[1], shape=(t_steps, batch, w.shape[0]))
        s = check_array(f"layers[{i}] s", layer[2], shape=(t_steps, batch, w.shape[0]))
        checked.append((pre.astype(dtype, copy=False), v.astype(dtype, copy=False), s.astype(dtype, copy=False)))
    t_steps, batch = checked[-1][1].shape[:2]
    if any(layer[1].shape[:2] != (t_steps, batch) for layer in checked):
        raise ValueError("layers must all have the same T and batch size")
    grad_spikes = _check_grad_counts(grad_counts, batch, weights[-1].shape[0], dtype)

    grad_weights = [None] * len(weights)
    grad_biases = [None] * len(weights)
    for index in range(len(weights) - 1, -1, -1):
        pre, v, s = checked[index]
        gv = _voltage_gradient(v, s, grad_spikes, neurons[index])
        flat = gv.reshape(t_steps * batch, -1)
        grad_weights[index] = flat.T @ pre.reshape(t_steps * batch, -1)
        grad_biases[index] = flat.sum(axis=0)
        if index == 0:
            break
        grad_pre = (flat @ weights[index]).reshape(t_steps, batch, -1)
        if timing == "delayed":
            # pre_t = s_{t-1}: the gradient of s_t comes from the next step's input.
            shifted = np.zeros_like(grad_pre)
            shifted[:-1] = grad_pre[1:]
            grad_pre = shifted
        grad_spikes = grad_pre
    return grad_weights, grad_biases


def bptt_gradients(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], neurons, x, grad_counts,
                   timing: str = "same_step"):
    """Return the BPTT gradients ``(grad_weights, grad_biases)`` of a loss of the output counts.

    Runs :func:`lif_forward` and :func:`bptt_backward`. The loss enters only through
    ``grad_counts = dL/dc_o`` (shape ``(batch, n_o)``), so for ``L = sum_n <g_n, c_{o,n}>``
    pass ``g``, and for the mean cross-entropy pass the gradient from
    :func:`softmax_cross_entropy`. The gradients are sums over the batch.

    Parameters
    ----------
    weights, biases, neurons, x, timing
        As in :func:`lif_forward`.
    grad_counts : ndarray of shape (batch, n_o)
    """
    layers = lif_forward(weights, biases, neurons, x, timing)
    return bptt_backward(list(weights), layers, neurons, grad_counts, timing)


# ---------------------------------------------------------------------- loss and training step
def softmax_cross_entropy(counts, labels):
    r"""Return the mean softmax cross-entropy of output counts and its gradient.

    .. math::

        \mathcal{L} = \frac{1}{N} \sum_n \Big( \log \sum_k e^{c_{n,k}} - c_{n,y_n} \Big),
        \qquad \frac{\partial \mathcal{L}}{\partial c_n} = \frac{\mathrm{softmax}(c_n) - y_n}{N}

    The output spike counts are the logits, as in the STBP baseline of the BioGrad authors.

    Parameters
    ----------
    counts : ndarray of shape (batch, n_o)
        Output spike counts ``c_o`` (float).
    labels : ndarray of int, shape (batch,)
        Class indices in ``[0, n_o)``.

    Returns
    -------
    loss : float
    grad_counts : ndarray of shape (batch, n_o)
        ``dL/dc_o`` in the dtype of ``counts``.
    """
    counts = check_array("counts", counts, ndim=2)
    if not np.issubdtype(counts.dtype, np.floating):
        counts = counts.astype(np.float64)
    batch, n_out = counts.shape
    if batch == 0:
        raise ValueError("counts must hold at least one sample, got batch size 0")
    labels = check_array("labels", labels, shape=(batch,))
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"labels must be integers, got dtype {labels.dtype}")
    if labels.min() < 0 or labels.max() >= n_out:
        raise ValueError(
            f"labels must lie in [0, {n_out - 1}] for {n_out} classes, "
            f"got values in [{labels.min()}, {labels.max()}]"
        )
    rows = np.arange(batch)
    shifted = counts - counts.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1))
    loss = float(np.mean(log_norm - shifted[rows, labels]))
    grad = softmax(counts.copy())
    grad[rows, labels] -= 1
    grad /= counts.dtype.type(batch)
    return loss, grad


def bptt_cross_entropy_gradients(net: BioGradNetwork, x, labels):
    """Return ``(loss, grad_weights, grad_biases, counts)`` of the mean softmax cross-entropy by BPTT.

    The forward pass is ``net.forward(x)`` (the network's own timing), the logits are the
    output spike counts, and the gradients are those of :func:`bptt_backward`.
    """
    if not isinstance(net, BioGradNetwork):
        raise TypeError(f"net must be a BioGradNetwork, got {type(net).__name__}")
    layers = net.forward(x)
    counts = layers[-1][2].sum(axis=0)
    loss, grad_counts = softmax_cross_entropy(counts, labels)
    grad_weights, grad_biases = bptt_backward(
        net.weights, layers, list(net.neurons), grad_counts, net.config.timing
    )
    return loss, grad_weights, grad_biases, counts


def bptt_step(net: BioGradNetwork, x, labels, optimizer: Adam):
    """Train ``net`` on one batch with BPTT and Adam; return ``(loss, predictions)``.

    Runs the forward pass of ``net`` on ``x``, takes the mean softmax cross-entropy of the
    output counts (:func:`softmax_cross_entropy`), computes its BPTT gradient and applies
    one optimizer step to ``net.weights`` and ``net.biases`` in place, in the parameter
    order ``[W_1, b_1, ..., W_o, b_o]``. The feedback matrices are not used or changed.
    The BioGrad authors' baseline used Adam with ``lr = 1e-4`` and batch 128.

    Parameters
    ----------
    net : BioGradNetwork
    x : ndarray of shape (T, batch, n_0)
        Input spikes.
    labels : ndarray of int, shape (batch,)
    optimizer : Adam

    Returns
    -------
    loss : float
        Loss before the update.
    predictions : ndarray of shape (batch,)
        ``argmax`` of the output counts before the update (first maximal index).
    """
    if not isinstance(net, BioGradNetwork):
        raise TypeError(f"net must be a BioGradNetwork, got {type(net).__name__}")
    if not isinstance(optimizer, Adam):
        raise TypeError(f"optimizer must be an Adam instance, got {type(optimizer).__name__}")
    loss, grad_weights, grad_biases, counts = bptt_cross_entropy_gradients(net, x, labels)
    params, grads = [], []
    for w, b, gw, gb in zip(net.weights, net.biases, grad_weights, grad_biases):
        params += [w, b]
        grads += [gw, gb]
    optimizer.step(params, grads)
    return loss, counts.argmax(axis=1)
