r"""Adam optimizer (Kingma and Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015).

For every parameter array ``theta`` with gradient ``g``, step ``t = 1, 2, ...``:

.. math::

    m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g \\
    v_t &= \beta_2 v_{t-1} + (1 - \beta_2) g^2 \\
    \hat m_t &= m_t / (1 - \beta_1^t), \qquad \hat v_t = v_t / (1 - \beta_2^t) \\
    \theta &\leftarrow \theta - \eta \, \hat m_t / (\sqrt{\hat v_t} + \epsilon)

with ``m_0 = v_0 = 0``. This is the form of the paper's Algorithm 1, with ``epsilon`` added
after the square root, and the same arithmetic as PyTorch's ``torch.optim.Adam`` without
weight decay or AMSGrad.
"""

from __future__ import annotations

import numpy as np

from lava_biograd.validation import check_float, check_int

_HYPERPARAMETERS = ("lr", "beta1", "beta2", "eps")


class Adam:
    """Adam on a fixed list of numpy parameter arrays, updated in place.

    The moment estimates are created on the first :meth:`step` in the dtype of each
    parameter, and every later step must pass parameters of the same count and shapes.

    Parameters
    ----------
    lr : float, default=1e-4
        Learning rate ``eta`` > 0 (1e-4 is the value of the BioGrad authors' BPTT baseline).
    beta1 : float, default=0.9
        Decay of the first-moment estimate, in [0, 1).
    beta2 : float, default=0.999
        Decay of the second-moment estimate, in [0, 1).
    eps : float, default=1e-8
        Term ``epsilon`` > 0 added to ``sqrt(v_hat)`` in the denominator.
    """

    def __init__(self, lr: float = 1e-4, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.lr = check_float("Adam lr", lr, minimum=0.0, min_open=True)
        self.beta1 = check_float("Adam beta1", beta1, minimum=0.0, maximum=1.0, max_open=True)
        self.beta2 = check_float("Adam beta2", beta2, minimum=0.0, maximum=1.0, max_open=True)
        self.eps = check_float("Adam eps", eps, minimum=0.0, min_open=True)
        self.step_count = 0
        self.exp_avg: list | None = None
        self.exp_avg_sq: list | None = None

    def __repr__(self) -> str:
        return (f"Adam(lr={self.lr}, beta1={self.beta1}, beta2={self.beta2}, eps={self.eps}, "
                f"step_count={self.step_count})")

    # ------------------------------------------------------------------ update
    def _check_step_arguments(self, params, grads):
        if not isinstance(params, (list, tuple)) or not isinstance(grads, (list, tuple)):
            raise TypeError(
                f"params and grads must be lists of arrays, got {type(params).__name__} and {type(grads).__name__}"
            )
        if len(params) != len(grads):
            raise ValueError(f"params and grads must have the same length, got {len(params)} and {len(grads)}")
        if not params:
            raise ValueError("params must contain at least one array")
        checked = []
        for i, (p, g) in enumerate(zip(params, grads)):
            if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
                raise TypeError(
                    f"params[{i}] must be a float numpy array updated in place, got {type(p).__name__}"
                    + (f" of dtype {p.dtype}" if isinstance(p, np.ndarray) else "")
                )
            if not p.flags.writeable:
                raise ValueError(f"params[{i}] must be writeable, because Adam updates it in place")
            g = np.asarray(g)
            if g.shape != p.shape:
                raise ValueError(f"grads[{i}] must have the shape of params[{i}] {p.shape}, got {g.shape}")
            if not np.all(np.isfinite(g)):
                raise ValueError(f"grads[{i}] must be finite, got NaN or inf entries")
            checked.append(g.astype(p.dtype, copy=False))
        if self.exp_avg is not None:
            if len(self.exp_avg) != len(params):
                raise ValueError(
                    f"this Adam state covers {len(self.exp_avg)} parameter arrays, got {len(params)}; "
                    "use one optimizer per parameter list"
                )
            for i, (p, m) in enumerate(zip(params, self.exp_avg)):
                if m.shape != p.shape:
                    raise ValueError(
                        f"params[{i}] has shape {p.shape} but the Adam state has {m.shape}; "
                        "use one optimizer per parameter list"
                    )
        return checked

    def step(self, params: list, grads: list) -> None:
        """Apply one Adam update to every array of ``params`` in place.

        Parameters
        ----------
        params : list of ndarray
            Float arrays, updated in place (``theta <- theta - lr m_hat / (sqrt(v_hat) + eps)``).
        grads : list of ndarray
            Gradients of the loss, one per parameter and of the same shape.
        """
        grads = self._check_step_arguments(params, grads)
        if self.exp_avg is None:
            self.exp_avg = [np.zeros_like(p) for p in params]
            self.exp_avg_sq = [np.zeros_like(p) for p in params]
        self.step_count += 1
        correction1 = 1.0 - self.beta1 ** self.step_count
        correction2 = 1.0 - self.beta2 ** self.step_count
        for p, g, m, v in zip(params, grads, self.exp_avg, self.exp_avg_sq):
            dtype = p.dtype.type
            m *= dtype(self.beta1)
            m += dtype(1.0 - self.beta1) * g
            v *= dtype(self.beta2)
            v += dtype(1.0 - self.beta2) * g * g
            denominator = np.sqrt(v / dtype(correction2))
            denominator += dtype(self.eps)
            p -= dtype(self.lr) * (m / dtype(correction1)) / denominator

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict:
        """Return the state as a flat dict of numpy arrays (suitable for ``numpy.savez``).

        Keys: ``step`` (int64 scalar), ``lr``, ``beta1``, ``beta2``, ``eps`` (float64
        scalars), ``n_params`` (int64 scalar) and ``exp_avg_<i>``, ``exp_avg_sq_<i>`` for
        every parameter ``i`` once a step has run. The moment arrays are copies.
        """
        state = {
            "step": np.asarray(self.step_count, np.int64),
            "n_params": np.asarray(0 if self.exp_avg is None else len(self.exp_avg), np.int64),
        }
        for name in _HYPERPARAMETERS:
            state[name] = np.asarray(getattr(self, name), np.float64)
        if self.exp_avg is not None:
            for i, (m, v) in enumerate(zip(self.exp_avg, self.exp_avg_sq)):
                state[f"exp_avg_{i}"] = m.copy()
                state[f"exp_avg_sq_{i}"] = v.copy()
        return state

    def load_state_dict(self, state) -> None:
        """Restore the step count, hyper-parameters and moments from :meth:`state_dict` output.

        Accepts any mapping of arrays, such as the result of ``numpy.load`` on an ``.npz``
        file. Every value is validated before anything is replaced.
        """
        try:
            keys = set(state.keys())
        except AttributeError:
            raise TypeError(f"state must be a mapping of arrays, got {type(state).__name__}") from None
        required = {"step", "n_params", *_HYPERPARAMETERS}
        missing = sorted(required - keys)
        if missing:
            raise ValueError(f"Adam state is missing the keys {missing}; pass the output of Adam.state_dict()")

        def scalar(name):
            value = np.asarray(state[name])
            if value.shape != ():
                raise ValueError(f"Adam state '{name}' must be a scalar, got shape {value.shape}")
            return value.item()

        step_count = check_int("Adam state 'step'", scalar("step"), minimum=0)
        n_params = check_int("Adam state 'n_params'", scalar("n_params"), minimum=0)
        hyper = {name: scalar(name) for name in _HYPERPARAMETERS}
        probe = Adam(**hyper)  # validates the hyper-parameters with the constructor's checks

        exp_avg, exp_avg_sq = None, None
        if n_params:
            exp_avg, exp_avg_sq = [], []
            for i in range(n_params):
                for key in (f"exp_avg_{i}", f"exp_avg_sq_{i}"):
                    if key not in keys:
                        raise ValueError(f"Adam state is missing '{key}' for n_params={n_params}")
                m = np.array(state[f"exp_avg_{i}"])
                v = np.array(state[f"exp_avg_sq_{i}"])
                if m.shape != v.shape:
                    raise ValueError(
                        f"Adam state 'exp_avg_{i}' and 'exp_avg_sq_{i}' must have the same shape, "
                        f"got {m.shape} and {v.shape}"
                    )
                if not (np.issubdtype(m.dtype, np.floating) and np.issubdtype(v.dtype, np.floating)):
                    raise TypeError(f"Adam state moments {i} must be float arrays, got {m.dtype} and {v.dtype}")
                if np.any(v < 0):
                    raise ValueError(f"Adam state 'exp_avg_sq_{i}' must be non-negative")
                exp_avg.append(m)
                exp_avg_sq.append(v)
        elif step_count:
            raise ValueError(f"Adam state has step={step_count} but no moment arrays (n_params=0)")

        self.lr, self.beta1, self.beta2, self.eps = probe.lr, probe.beta1, probe.beta2, probe.eps
        self.step_count = step_count
        self.exp_avg, self.exp_avg_sq = exp_avg, exp_avg_sq

