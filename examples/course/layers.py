"""Course-style layers (CS231n-like), written the way students write them, with a switch per bug.

Every layer is a pair ``layer_forward(x, *params, *settings) -> (out, cache)`` /
``layer_backward(dout, cache) -> dx or (dx, *dparams)``; the loss is
``softmax_loss(x, y) -> (loss, dx)``. Each typical bug is one name in :data:`BUG_NAMES`;
turn bugs on with ``with bugs("bn_eps"): ...`` (or ``python check_course_layers.py --bug
bn_eps``). With no bug on, every layer is correct. Two switches are not bugs: they write
into an input or a cache in place, which is legal and checked with a note.
"""

from __future__ import annotations

import contextlib

import numpy as np

#: Bug name -> what it plants (the diagnosis gradcheck should give is in check_course_layers).
BUG_NAMES = {
    "affine_forward_unfinished": "affine_forward returns None (work in progress)",
    "affine_dw_transposed": "dw = dout.T @ x",
    "affine_db_keepdims": "db = dout.sum(axis=0, keepdims=True)",
    "affine_dx_forgot_w": "dx = dout (the weights forgotten)",
    "relu_forward_mask": "the forward returns the mask (x > 0) instead of x * (x > 0)",
    "relu_backward_unfinished": "relu_backward returns None",
    "relu_inplace": "(not a bug) relu_backward turns its cached input into the mask in place",
    "bn_coupling_dropped": "dx = dout * gamma / std (no terms through the mean and var)",
    "bn_not_reduced": "dvar and dmean not summed over the batch",
    "bn_eps": "the backward uses sqrt(var) where the forward used sqrt(var + eps)",
    "bn_count": "the alt backward divides by D (features) instead of N",
    "bn_dgamma_keepdims": "dgamma = sum(..., axis=0, keepdims=True)",
    "ln_batch_axis": "layer norm backward sums over the batch axis (copied from batch norm)",
    "dropout_no_scale": "the backward forgets the 1/p of inverted dropout",
    "conv_db_mean": "db is the mean over positions instead of the sum",
    "conv_dx_padded": "dx keeps the padding (shape N, C, H + 2 pad, W + 2 pad)",
    "maxpool_all_positions": "dout goes to every position of the window, not the max",
    "sbn_count": "spatial batch norm backward divides by N instead of N*H*W",
    "softmax_no_mean": "dx not divided by N (the loss is a mean)",
    "softmax_inplace": "(not a bug) softmax_loss shifts its scores in place",
}
BUGS: set[str] = set()


@contextlib.contextmanager
def bugs(*names: str):
    """Turn on the named bugs for the duration of a `with` block."""
    unknown = set(names) - set(BUG_NAMES)
    if unknown:
        raise ValueError(f"unknown bug(s) {sorted(unknown)}; choose from {sorted(BUG_NAMES)}")
    saved = set(BUGS)
    BUGS.update(names)
    try:
        yield
    finally:
        BUGS.clear()
        BUGS.update(saved)


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    if "affine_forward_unfinished" in BUGS:
        return None
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    x2 = x.reshape(x.shape[0], -1)
    dx = (dout @ w.T).reshape(x.shape)
    dw = x2.T @ dout
    db = dout.sum(axis=0)
    if "affine_dw_transposed" in BUGS:
        dw = dout.T @ x2
    if "affine_db_keepdims" in BUGS:
        db = dout.sum(axis=0, keepdims=True)
    if "affine_dx_forgot_w" in BUGS:
        dx = dout
    return dx, dw, db


def relu_forward(x):
    out = np.maximum(0, x)
    if "relu_forward_mask" in BUGS:
        out = (x > 0).astype(x.dtype)
    return out, x


def relu_backward(dout, cache):
    if "relu_backward_unfinished" in BUGS:
        return None
    x = cache
    if "relu_inplace" in BUGS:
        x[x > 0], x[x <= 0] = 1, 0  # the cache becomes the mask
        return dout * x
    return dout * (x > 0)


def batchnorm_forward(x, gamma, beta, bn_param):
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    mu, var = x.mean(axis=0), x.var(axis=0)
    std = np.sqrt(var + eps)
    xhat = (x - mu) / std
    out = gamma * xhat + beta
    d = x.shape[1]
    bn_param["running_mean"] = (
        momentum * bn_param.get("running_mean", np.zeros(d)) + (1 - momentum) * mu
    )  # students write running statistics into bn_param
    bn_param["running_var"] = (
        momentum * bn_param.get("running_var", np.zeros(d)) + (1 - momentum) * var
    )
    return out, (x, xhat, gamma, mu, var, eps)


def batchnorm_backward(dout, cache):
    """The staged backward: through xhat, the variance and the mean."""
    x, xhat, gamma, mu, var, eps = cache
    n = x.shape[0]
    if "bn_eps" in BUGS:
        eps = 0.0
    std = np.sqrt(var + eps)
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * xhat, axis=0, keepdims="bn_dgamma_keepdims" in BUGS)
    dxhat = dout * gamma
    reduce = (lambda a: a) if "bn_not_reduced" in BUGS else (lambda a: np.sum(a, axis=0))
    dvar = reduce(dxhat * (x - mu)) * -0.5 * (var + eps) ** -1.5
    dmu = reduce(-dxhat / std) + dvar * np.mean(-2.0 * (x - mu), axis=0)
    dx = dxhat / std + dvar * 2.0 * (x - mu) / n + dmu / n
    if "bn_coupling_dropped" in BUGS:
        dx = dxhat / std
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    """The one-line backward."""
    x, xhat, gamma, mu, var, eps = cache
    n, d = x.shape
    count = d if "bn_count" in BUGS else n
    istd = 1.0 / np.sqrt(var + eps)
    dbeta, dgamma = dout.sum(axis=0), np.sum(dout * xhat, axis=0)
    mean_dout, mean_dout_xhat = dout.sum(axis=0) / count, (dout * xhat).sum(axis=0) / count
    dx = gamma * istd * (dout - mean_dout - xhat * mean_dout_xhat)
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, ln_param):
    eps = ln_param.get("eps", 1e-5)
    mu, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    xhat = (x - mu) / np.sqrt(var + eps)
    return gamma * xhat + beta, (xhat, gamma, var, eps)


def layernorm_backward(dout, cache):
    xhat, gamma, var, eps = cache
    axis = 0 if "ln_batch_axis" in BUGS else 1
    dbeta, dgamma = dout.sum(axis=0), np.sum(dout * xhat, axis=0)
    dxhat = dout * gamma
    dx = (
        dxhat
        - dxhat.mean(axis=axis, keepdims=True)
        - xhat * (dxhat * xhat).mean(axis=axis, keepdims=True)
    ) / np.sqrt(var + eps)
    return dx, dgamma, dbeta


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    if mode != "train":
        return x, (dropout_param, None)
    mask = (np.random.rand(*x.shape) < p) / p
    return x * mask, (dropout_param, mask)


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] != "train":
        return dout
    if "dropout_no_scale" in BUGS:
        return dout * (mask > 0)
    return dout * mask


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    n, _, h, width = x.shape
    f, _, hh, ww = w.shape
    h_out, w_out = 1 + (h + 2 * pad - hh) // stride, 1 + (width + 2 * pad - ww) // stride
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.empty((n, f, h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            window = xp[:, :, i * stride : i * stride + hh, j * stride : j * stride + ww]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    _, _, hh, ww = w.shape
    _, _, h_out, w_out = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for i in range(h_out):
        for j in range(w_out):
            rows, cols = slice(i * stride, i * stride + hh), slice(j * stride, j * stride + ww)
            dw += np.tensordot(dout[:, :, i, j], xp[:, :, rows, cols], axes=([0], [0]))
            dxp[:, :, rows, cols] += np.tensordot(dout[:, :, i, j], w, axes=([1], [0]))
    db = dout.sum(axis=(0, 2, 3))
    if "conv_db_mean" in BUGS:
        db = db / (h_out * w_out)
    if "conv_dx_padded" in BUGS:
        return dxp, dw, db
    return dxp[:, :, pad : pad + x.shape[2], pad : pad + x.shape[3]], dw, db


def max_pool_forward_naive(x, pool_param):
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    n, c, h, w = x.shape
    h_out, w_out = 1 + (h - ph) // stride, 1 + (w - pw) // stride
    out = np.empty((n, c, h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            window = x[:, :, i * stride : i * stride + ph, j * stride : j * stride + pw]
            out[:, :, i, j] = window.max(axis=(2, 3))
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            rows, cols = slice(i * stride, i * stride + ph), slice(j * stride, j * stride + pw)
            window = x[:, :, rows, cols]
            mask = window == window.max(axis=(2, 3), keepdims=True)
            if "maxpool_all_positions" in BUGS:
                mask = np.ones_like(window)
            dx[:, :, rows, cols] += mask * dout[:, :, i, j][:, :, None, None]
    return dx  # a bare dx: no parameters


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    n, c, h, w = x.shape
    flat = x.transpose(0, 2, 3, 1).reshape(-1, c)
    out, cache = batchnorm_forward(flat, gamma, beta, bn_param)
    return out.reshape(n, h, w, c).transpose(0, 3, 1, 2), (cache, x.shape)


def spatial_batchnorm_backward(dout, cache):
    """Batch norm over (N, H, W) per channel, written out (the count is N*H*W)."""
    (flat_x, xhat, gamma, mu, var, eps), (n, c, h, w) = cache
    d = dout.transpose(0, 2, 3, 1).reshape(-1, c)
    count = n if "sbn_count" in BUGS else n * h * w
    istd = 1.0 / np.sqrt(var + eps)
    dx = gamma * istd * (d - d.sum(axis=0) / count - xhat * (d * xhat).sum(axis=0) / count)
    dgamma, dbeta = np.sum(d * xhat, axis=0), d.sum(axis=0)
    return dx.reshape(n, h, w, c).transpose(0, 3, 1, 2), dgamma, dbeta


def softmax_loss(x, y):
    if "softmax_inplace" in BUGS:
        x -= np.max(x, axis=1, keepdims=True)  # shifts the caller's scores in place
        shifted = x
    else:
        shifted = x - np.max(x, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    n = x.shape[0]
    loss = -np.sum(log_probs[np.arange(n), y]) / n
    dx = np.exp(log_probs)
    dx[np.arange(n), y] -= 1
    if "softmax_no_mean" not in BUGS:
        dx /= n
    return loss, dx
