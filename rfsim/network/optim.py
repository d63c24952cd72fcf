"""Gradient-descent optimizers with the update rules of ``torch.optim``, on NumPy arrays.

The optimizers update a dict of parameter arrays in place from a dict of gradients with
the same keys. They follow the single-tensor (CPU) code path of ``Adam``, ``RAdam`` and
``RMSprop`` in PyTorch 2.x, with the same default hyper-parameters, so that a training
run ported from the authors' scripts takes the same steps. For one parameter array p with
gradient g, at step t = 1, 2, ...:

Adam (lr 1e-3, betas (0.9, 0.999), eps 1e-8)::

    m <- m + (1 - beta1)(g - m)          (torch's lerp, = beta1 m + (1 - beta1) g)
    v <- beta2 v + (1 - beta2) g^2
    p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

With ``amsgrad`` the running maximum of v replaces v in the denominator.

RAdam (lr 1e-3, betas (0.9, 0.999), eps 1e-8), with rho_inf = 2 / (1 - beta2) - 1 and
rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)::

    m, v as for Adam,   m_hat = m / (1 - beta1^t)
    if rho_t > 5:  r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
                   p <- p - lr m_hat r sqrt(1 - beta2^t) / (sqrt(v) + eps)
    else:          p <- p - lr m_hat

RMSprop (lr 1e-2, alpha 0.99, eps 1e-8, no momentum, not centred)::

    s <- alpha s + (1 - alpha) g^2
    d = sqrt(s) + eps           (centred: d = sqrt(s - gbar^2) + eps, gbar <- gbar + (1 - alpha)(g - gbar))
    p <- p - lr g / d           (momentum mu > 0: buf <- mu buf + g / d, p <- p - lr buf)

A nonzero ``weight_decay`` adds weight_decay * p to g first (L2 penalty, as torch does).

The state of each optimizer (step counts, moments, hyper-parameters) is a flat dict of
NumPy arrays (``state_dict``), so it can be saved with ``numpy.savez`` beside a
checkpoint and restored (``load_state_dict``) to continue bit for bit.
"""

import math

import numpy as np

from rfsim.errors import RFSimError


def _check_hyperparameter(name, value, low, high=None, high_inclusive=False):
    """Raise ``RFSimError`` unless ``low <= value`` and ``value < high`` (or ``<=``)."""
    value = float(value)
    in_range = math.isfinite(value) and value >= low
    upper = ""
    if high is not None and high_inclusive:
        in_range = in_range and value <= high
        upper = f" and <= {high}"
    elif high is not None:
        in_range = in_range and value < high
        upper = f" and < {high}"
    if not in_range:
        raise RFSimError(f"{name} must be a finite number >= {low}{upper}, got {name}={value!r}")
    return value


class Optimizer:
    """Base class: parameters, per-parameter state, learning rate and checkpointing.

    Parameters
    ----------
    params : dict of str to ndarray
        Parameter arrays, updated in place by ``step``. They must be writable
        floating-point arrays; the optimizer keeps references to them.
    lr : float
        Learning rate, >= 0. It can be changed between steps through ``optimizer.lr``.
    """

    state_names = ()
    """Names of the per-parameter state arrays, in the order they are exported."""

    def __init__(self, params, lr):
        if not isinstance(params, dict) or not params:
            raise RFSimError("params must be a non-empty dict of parameter arrays")
        for key, value in params.items():
            if not isinstance(value, np.ndarray) or not np.issubdtype(value.dtype, np.floating):
                raise RFSimError(f"params[{key!r}] must be a floating-point numpy array, got {type(value).__name__}"
                                 f"{'' if not isinstance(value, np.ndarray) else ' of dtype ' + str(value.dtype)}")
            if not value.flags.writeable:
                raise RFSimError(f"params[{key!r}] is read-only, but the optimizer updates it in place; pass a copy")
        self.params = params
        self.lr = lr
        self.steps = {key: 0 for key in params}
        self.state = {name: {key: np.zeros_like(value) for key, value in params.items()}
                      for name in self.state_names}

    @property
    def lr(self):
        """Learning rate used by the next ``step``."""
        return self._lr

    @lr.setter
    def lr(self, value):
        self._lr = _check_hyperparameter("lr", value, 0.0)

    def hyperparameters(self):
        """Return the hyper-parameters as a dict of floats (the learning rate included)."""
        return {"lr": self.lr}

    def step(self, *args):
        """Update every parameter that has an entry in ``grads``, in place.

        Call as ``step(grads)`` or ``step(params, grads)``. The second form exists for
        callers that pass the parameters along, and ``params`` must then be the dict given
        to the constructor.

        Parameters
        ----------
        grads : dict of str to ndarray
            Gradient of the loss for some or all parameters, same shapes as the
            parameters. A parameter without an entry is skipped, and its step count
            does not advance (as a torch parameter whose ``grad`` is None).
        """
        if len(args) == 2:
            params, grads = args
            if params is not self.params:
                raise RFSimError("step(params, grads) needs the params dict given to the optimizer's "
                                 "constructor, got a different dict; create a new optimizer for it")
        elif len(args) == 1:
            (grads,) = args
        else:
            raise RFSimError(f"step takes (grads) or (params, grads), got {len(args)} arguments")
        for key, grad in grads.items():
            if key not in self.params:
                raise RFSimError(f"grads has the key {key!r}, which is not a parameter of this optimizer; "
                                 f"parameters are {sorted(self.params)}")
            param = self.params[key]
            grad = np.asarray(grad)
            if grad.shape != param.shape:
                raise RFSimError(f"grads[{key!r}] must have the parameter's shape {param.shape}, got {grad.shape}")
        for key, grad in grads.items():
            self.steps[key] += 1
            state = {name: self.state[name][key] for name in self.state_names}
            self._update(self.params[key], np.asarray(grad, dtype=self.params[key].dtype), state, self.steps[key])

    def _update(self, param, grad, state, step):
        raise NotImplementedError

    def state_dict(self):
        """Export the optimizer state as a flat dict of NumPy arrays.

        Keys: ``'hyper/<name>'`` for each hyper-parameter (0-d float64), ``'step/<param>'``
        (0-d int64) and ``'<state name>/<param>'`` (copies of the state arrays).
        """
        exported = {f"hyper/{name}": np.array(value, dtype=np.float64)
                    for name, value in self.hyperparameters().items()}
        for key, count in self.steps.items():
            exported[f"step/{key}"] = np.array(count, dtype=np.int64)
        for name in self.state_names:
            for key, value in self.state[name].items():
                exported[f"{name}/{key}"] = value.copy()
        return exported

    def load_state_dict(self, state_dict):
        """Restore a state exported by ``state_dict`` of the same optimizer class and parameters.

        Raises ``RFSimError`` if a key is missing or unknown or a shape differs. The
        hyper-parameters, the learning rate included, are restored as well.
        """
        expected = set(self.state_dict())
        missing = sorted(expected - set(state_dict))
        unknown = sorted(set(state_dict) - expected)
        if missing or unknown:
            raise RFSimError(f"state_dict does not fit this {type(self).__name__}: missing keys {missing}, "
                             f"unknown keys {unknown}")
        for name in self.state_names:
            for key, value in self.state[name].items():
                loaded = np.asarray(state_dict[f"{name}/{key}"])
                if loaded.shape != value.shape:
                    raise RFSimError(f"state_dict[{name + '/' + key!r}] must have shape {value.shape}, "
                                     f"got {loaded.shape}")

        for name in self.hyperparameters():
            self._set_hyperparameter(name, float(state_dict[f"hyper/{name}"]))
        for key in self.steps:
            self.steps[key] = int(state_dict[f"step/{key}"])
        for name in self.state_names:
            for key, value in self.state[name].items():
                value[...] = state_dict[f"{name}/{key}"]

    def _set_hyperparameter(self, name, value):
        setattr(self, name, value)


class _MomentOptimizer(Optimizer):
    """Common part of Adam and RAdam: the hyper-parameters and the two moment updates."""

    def __init__(self, params, lr, betas, eps, weight_decay):
        self.beta1 = _check_hyperparameter("betas[0]", betas[0], 0.0, 1.0)
        self.beta2 = _check_hyperparameter("betas[1]", betas[1], 0.0, 1.0)
        self.eps = _check_hyperparameter("eps", eps, 0.0)
        self.weight_decay = _check_hyperparameter("weight_decay", weight_decay, 0.0)
        super().__init__(params, lr)

    def hyperparameters(self):
        return {"lr": self.lr, "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps,
                "weight_decay": self.weight_decay}

    def _update_moments(self, param, grad, state):
        """Add the L2 penalty, update the first and second moment in place and return them."""
        if self.weight_decay != 0.0:
            grad = grad + self.weight_decay * param
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg += (1.0 - self.beta1) * (grad - exp_avg)
        exp_avg_sq *= self.beta2
        exp_avg_sq += (1.0 - self.beta2) * grad * grad
        return exp_avg, exp_avg_sq


class Adam(_MomentOptimizer):
    """Adam with torch's update rule and defaults (see the module docstring).

    Parameters
    ----------
    params : dict of str to ndarray
        Parameter arrays, updated in place.
    lr : float, default 1e-3
    betas : (float, float), default (0.9, 0.999)
        Decay rates of the first and second moment, each in [0, 1).
    eps : float, default 1e-8
        Added to the bias-corrected sqrt(v), >= 0.
    weight_decay : float, default 0
        L2 penalty added to the gradient, >= 0.
    amsgrad : bool, default False
        Use the running maximum of the second moment.
    """

    state_names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        self.amsgrad = bool(amsgrad)
        super().__init__(params, lr, betas, eps, weight_decay)

    def hyperparameters(self):
        return {**super().hyperparameters(), "amsgrad": float(self.amsgrad)}

    def _set_hyperparameter(self, name, value):
        setattr(self, name, bool(value) if name == "amsgrad" else value)

    def _update(self, param, grad, state, step):
        exp_avg, exp_avg_sq = self._update_moments(param, grad, state)

        bias_correction1 = 1.0 - self.beta1**step
        bias_correction2_sqrt = math.sqrt(1.0 - self.beta2**step)
        step_size = self.lr / bias_correction1

        if self.amsgrad:
            np.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            second_moment = state["max_exp_avg_sq"]
        else:
            second_moment = exp_avg_sq
        denominator = np.sqrt(second_moment) / bias_correction2_sqrt + self.eps
        param -= step_size * (exp_avg / denominator)


class RAdam(_MomentOptimizer):
    """Rectified Adam with torch's update rule and defaults (see the module docstring).

    Parameters
    ----------
    params : dict of str to ndarray
        Parameter arrays, updated in place.
    lr : float, default 1e-3
    betas : (float, float), default (0.9, 0.999)
        Decay rates of the first and second moment, each in [0, 1).
    eps : float, default 1e-8
        Added to sqrt(v) (not bias-corrected, as torch does), >= 0.
    weight_decay : float, default 0
        L2 penalty added to the gradient, >= 0.
    """

    state_names = ("exp_avg", "exp_avg_sq")

    RECTIFICATION_THRESHOLD = 5.0
    """torch applies the variance rectification only while rho_t exceeds this value."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr, betas, eps, weight_decay)

    def _update(self, param, grad, state, step):
        exp_avg, exp_avg_sq = self._update_moments(param, grad, state)

        bias_correction1 = 1.0 - self.beta1**step
        bias_correction2 = 1.0 - self.beta2**step
        corrected_exp_avg = exp_avg / bias_correction1

        # Length of the approximated simple moving average, and its limit.
        rho_inf = 2.0 / (1.0 - self.beta2) - 1.0
        rho_t = rho_inf - 2.0 * step * self.beta2**step / bias_correction2

        if rho_t > self.RECTIFICATION_THRESHOLD:
            rectification = math.sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf
                                      / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
            adaptive_lr = math.sqrt(bias_correction2) / (np.sqrt(exp_avg_sq) + self.eps)
            param -= corrected_exp_avg * self.lr * adaptive_lr * rectification
        else:
            # Variance of the adaptive rate not yet tractable: SGD with momentum.
            param -= corrected_exp_avg * self.lr


class RMSprop(Optimizer):
    """RMSprop with torch's update rule and defaults (see the module docstring).

    Parameters
    ----------
    params : dict of str to ndarray
        Parameter arrays, updated in place.
    lr : float, default 1e-2
    alpha : float, default 0.99
        Decay rate of the mean square, in [0, 1].
    eps : float, default 1e-8
        Added to the root mean square, >= 0.
    weight_decay : float, default 0
        L2 penalty added to the gradient, >= 0.
    momentum : float, default 0
        Momentum factor, >= 0.
    centered : bool, default False
        Divide by the estimated standard deviation of the gradient instead of its RMS.
    """

    state_names = ("square_avg", "grad_avg", "momentum_buffer")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        self.alpha = _check_hyperparameter("alpha", alpha, 0.0, 1.0, high_inclusive=True)
        self.eps = _check_hyperparameter("eps", eps, 0.0)
        self.weight_decay = _check_hyperparameter("weight_decay", weight_decay, 0.0)
        self.momentum = _check_hyperparameter("momentum", momentum, 0.0)
        self.centered = bool(centered)
        super().__init__(params, lr)

    def hyperparameters(self):
        return {"lr": self.lr, "alpha": self.alpha, "eps": self.eps, "weight_decay": self.weight_decay,
                "momentum": self.momentum, "centered": float(self.centered)}

    def _set_hyperparameter(self, name, value):
        setattr(self, name, bool(value) if name == "centered" else value)

    def _update(self, param, grad, state, step):
        if self.weight_decay != 0.0:
            grad = grad + self.weight_decay * param
        square_avg = state["square_avg"]

        square_avg *= self.alpha
        square_avg += (1.0 - self.alpha) * grad * grad

        if self.centered:
            grad_avg = state["grad_avg"]
            grad_avg += (1.0 - self.alpha) * (grad - grad_avg)
            denominator = np.sqrt(square_avg - grad_avg * grad_avg) + self.eps
        else:
            denominator = np.sqrt(square_avg) + self.eps

        if self.momentum > 0.0:
            buffer = state["momentum_buffer"]
            buffer *= self.momentum
            buffer += grad / denominator
            param -= self.lr * buffer
        else:
            param -= self.lr * (grad / denominator)


def linear_decay_lr(lr0, epoch, epochs):
    """Return the learning rate lr0 * (1 - epoch / epochs) of the authors' training scripts.

    The scripts multiply the initial rate by this factor once per epoch (torch
    ``LambdaLR``), so epoch 0 trains with lr0 and the last epoch (epochs - 1) with
    lr0 / epochs.

    Parameters
    ----------
    lr0 : float
        Initial learning rate, >= 0.
    epoch : int
        Epochs completed so far, 0 <= epoch <= epochs.
    epochs : int
        Total number of epochs, >= 1.
    """
    lr0 = _check_hyperparameter("lr0", lr0, 0.0)
    if int(epochs) != epochs or epochs < 1:
        raise RFSimError(f"epochs must be a positive integer, got epochs={epochs!r}")
    if int(epoch) != epoch or not 0 <= epoch <= epochs:
        raise RFSimError(f"epoch must be an integer in [0, epochs={epochs}], got epoch={epoch!r}")
    return lr0 * (1.0 - epoch / epochs)


def clip_grad_norm(grads, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients in place so that their joint norm is at most ``max_norm``.

    As ``torch.nn.utils.clip_grad_norm_``: the total norm is the norm of the vector of
    per-array norms, and every gradient is multiplied by
    min(1, max_norm / (total_norm + 1e-6)).

    Parameters
    ----------
    grads : dict of str to ndarray
        Gradients, scaled in place (writable floating-point arrays).
    max_norm : float
        Largest allowed total norm, >= 0.
    norm_type : float, default 2
        Order p of the norm, > 0, or ``inf`` for the largest absolute entry.
    error_if_nonfinite : bool, default False
        Raise ``RFSimError`` if the total norm is NaN or infinite, instead of scaling.

    Returns
    -------
    float
        Total norm of the gradients before clipping.
    """
    max_norm = _check_hyperparameter("max_norm", max_norm, 0.0)
    norm_type = float(norm_type)
    if not (norm_type > 0.0):
        raise RFSimError(f"norm_type must be > 0 or inf, got norm_type={norm_type!r}")
    arrays = list(grads.values())
    if not arrays:
        return 0.0

    if math.isinf(norm_type):
        total_norm = max(float(np.max(np.abs(array))) if array.size else 0.0 for array in arrays)
    else:
        per_array = np.array([np.sum(np.abs(array, dtype=np.float64) ** norm_type) ** (1.0 / norm_type)
                              for array in arrays])
        total_norm = float(np.sum(per_array**norm_type) ** (1.0 / norm_type))

    if error_if_nonfinite and not math.isfinite(total_norm):
        raise RFSimError(f"the total gradient norm is {total_norm}, so the gradients cannot be clipped; "
                         "check the loss for NaN or overflow")

    clip_coefficient = min(max_norm / (total_norm + 1e-6), 1.0)
    if clip_coefficient < 1.0 or math.isnan(clip_coefficient):
        for array in arrays:
            array *= clip_coefficient
    return total_norm
