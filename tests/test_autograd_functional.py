"""minigrad.autograd.functional (vjp, jvp, jacobian, hessian, hvp, vhp) and gradgradcheck, against torch's.

Every function is compared with torch.autograd.functional's on the same small functions (float64,
to 1e-10): values, and the return structure (a tensor, a tuple, a tuple of tuples, as the inputs
and outputs were given). Results made with ``create_graph=True`` are differentiated again and
compared with torch's. Errors (strict mode, v) must have torch's type and text, with "torch."
read as "minigrad.". Independent truths: the Jacobian of a linear map is its matrix, the Hessian of
a quadratic form its matrix.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
import torch.autograd.functional as TF

import minigrad
import minigrad.autograd.functional as AF
from minigrad.autograd import GradcheckError, gradcheck
from minigrad.autograd.gradcheck import gradgradcheck

TOL = 1e-10


def pair(values, requires_grad: bool = False):
    """The same float64 values as a minigrad and a torch tensor."""
    values = np.asarray(values, dtype=np.float64)
    return (minigrad.tensor(values.copy(), dtype=minigrad.float64, requires_grad=requires_grad),
            torch.tensor(values.copy(), dtype=torch.float64, requires_grad=requires_grad))


def pairs(shapes, seed: int = 0, requires_grad: bool = False):
    """(minigrad tensors, torch tensors) with the same random values, one per shape."""
    rng = np.random.default_rng(seed)
    made = [pair(rng.standard_normal(s), requires_grad) for s in shapes]
    return tuple(m for m, _ in made), tuple(t for _, t in made)


def same(m, t, path: str = "result") -> None:
    """Same nesting (tensor / tuple), shapes, values; detached results stay detached."""
    if isinstance(t, (tuple, list)):
        assert type(m) is type(t), f"{path}: {type(m).__name__} where torch gives a {type(t).__name__}"
        assert len(m) == len(t), path
        for i, (a, b) in enumerate(zip(m, t)):
            same(a, b, f"{path}[{i}]")
        return
    assert isinstance(m, minigrad.Tensor), f"{path}: {type(m).__name__} where torch gives a Tensor"
    assert tuple(m.shape) == tuple(t.shape), f"{path}: {tuple(m.shape)} != {tuple(t.shape)}"
    assert m.requires_grad == t.requires_grad, f"{path}: requires_grad {m.requires_grad} != {t.requires_grad}"
    np.testing.assert_allclose(m.detach().numpy(), t.detach().numpy(), rtol=TOL, atol=TOL, err_msg=path)


def leaves(x):
    return [x] if not isinstance(x, tuple) else [y for el in x for y in leaves(el)]


# -- functions written with methods both libraries have ------------------------------------------------------
def f_single(x):
    return x.tanh() * x


def f_multi_out(x):
    return x.exp(), (x * x).sum()


def f_two_in(x, y):
    return (x @ y).tanh()


def f_two_in_two_out(x, y):
    return x * y.sum(), x.sin().sum() * y


def f_one_tuple(x):
    return (x.sum(),)


def f_scalar(x):
    return (x.tanh() ** 3).sum()


def f_scalar_two(x, y):
    return (x.exp() @ y).sin().sum() + (y * y).sum()


# (function, input shapes, inputs given as a tuple)
CASES = [
    pytest.param(f_single, [(3,)], False, id="single-vector"),
    pytest.param(f_single, [(2, 3)], False, id="single-matrix"),
    pytest.param(f_single, [()], False, id="single-0d"),
    pytest.param(f_single, [(2, 3)], True, id="one-tuple"),
    pytest.param(f_multi_out, [(4,)], False, id="tuple-out"),
    pytest.param(f_two_in, [(2, 3), (3,)], True, id="tuple-in"),
    pytest.param(f_two_in_two_out, [(2,), (3,)], True, id="tuple-in-tuple-out"),
]

SCALAR_CASES = [
    pytest.param(f_scalar, [(3,)], False, id="vector"),
    pytest.param(f_scalar, [(2, 2)], False, id="matrix"),
    pytest.param(f_scalar, [()], False, id="0d"),
    pytest.param(f_scalar, [(3,)], True, id="one-tuple"),
    pytest.param(f_scalar_two, [(2, 3), (3,)], True, id="tuple-in"),
]


def _args(shapes, as_tuple, seed=0, requires_grad=False):
    m, t = pairs(shapes, seed, requires_grad)
    return (m, t) if as_tuple else (m[0], t[0])


def _v_like(tensors, as_tuple, seed):
    """Random v with the shapes of ``tensors`` (torch tensors), as a tuple or single like them."""
    m, t = pairs([tuple(x.shape) for x in tensors], seed)
    return (m, t) if as_tuple else (m[0], t[0])


def _outputs(func, t_in, is_tuple):
    out = func(*t_in) if is_tuple else func(t_in)
    return (out, True) if isinstance(out, tuple) else ((out,), False)


# -- vjp, jvp, jacobian -----------------------------------------------------------------------------------
@pytest.mark.parametrize("func,shapes,as_tuple", CASES)
def test_vjp_matches_torch(func, shapes, as_tuple):
    m_in, t_in = _args(shapes, as_tuple)
    outs, outs_tuple = _outputs(func, t_in, as_tuple)
    m_v, t_v = _v_like(outs, outs_tuple, seed=1)
    same(AF.vjp(func, m_in, m_v), TF.vjp(func, t_in, t_v))


@pytest.mark.parametrize("func,shapes,as_tuple", CASES)
def test_jvp_matches_torch(func, shapes, as_tuple):
    m_in, t_in = _args(shapes, as_tuple)
    m_v, t_v = _v_like(t_in if as_tuple else (t_in,), as_tuple, seed=2)
    same(AF.jvp(func, m_in, m_v), TF.jvp(func, t_in, t_v))


@pytest.mark.parametrize("vectorize", [False, True])
@pytest.mark.parametrize("func,shapes,as_tuple", CASES)
def test_jacobian_matches_torch(func, shapes, as_tuple, vectorize):
    m_in, t_in = _args(shapes, as_tuple)
    same(AF.jacobian(func, m_in, vectorize=vectorize), TF.jacobian(func, t_in, vectorize=vectorize))


@pytest.mark.parametrize("func,shapes,as_tuple", CASES)
def test_jacobian_forward_mode_with_vectorize_gives_the_same_values(func, shapes, as_tuple):
    """Computed in reverse mode, in torch's forward-mode structure (lists where torch has lists)."""
    m_in, t_in = _args(shapes, as_tuple)
    expected = TF.jacobian(func, t_in, vectorize=True, strategy="forward-mode")
    same(AF.jacobian(func, m_in, vectorize=True, strategy="forward-mode"), expected)


def test_scalar_output_v_none_is_one():
    (m,), (t,) = pairs([(2, 3)])
    same(AF.vjp(f_scalar, m), TF.vjp(f_scalar, t))
    (m0,), (t0,) = pairs([()])
    same(AF.jvp(f_single, m0), TF.jvp(f_single, t0))
    (m1,), (t1,) = pairs([(1,)])
    same(AF.jvp(f_multi_out, m1), TF.jvp(f_multi_out, t1))
    same(AF.hvp(f_scalar, m0), TF.hvp(f_scalar, t0))
    same(AF.vhp(f_scalar, m0), TF.vhp(f_scalar, t0))


def test_unused_input_gives_zeros_when_not_strict():
    m_in, t_in = _args([(2,), (3,)], True)
    func = lambda x, y: x.exp()  # noqa: E731 - independent of y
    m_v, t_v = pairs([(2,), (3,)], seed=3)
    same(AF.vjp(func, m_in, m_v[0]), TF.vjp(func, t_in, t_v[0]))
    same(AF.jvp(func, m_in, m_v), TF.jvp(func, t_in, t_v))
    same(AF.jacobian(func, m_in), TF.jacobian(func, t_in))
    scalar = lambda x, y: x.exp().sum()  # noqa: E731
    same(AF.hessian(scalar, m_in), TF.hessian(scalar, t_in))
    same(AF.hvp(scalar, m_in, m_v), TF.hvp(scalar, t_in, t_v))
    same(AF.vhp(scalar, m_in, m_v), TF.vhp(scalar, t_in, t_v))


def test_identity_and_view_functions():
    """Outputs that are the input or a view of it: the double-backward trick still gives J v."""
    (m,), (t,) = pairs([(2, 3)])
    (mv,), (tv,) = pairs([(2, 3)], seed=4)
    for func in (lambda x: x, lambda x: x.reshape(3, 2), lambda x: x.t()):
        same(AF.jvp(func, m, mv), TF.jvp(func, t, tv))
        same(AF.jacobian(func, m), TF.jacobian(func, t))


def test_inputs_are_left_alone():
    (m,), _ = pairs([(3,)], requires_grad=True)
    AF.jacobian(f_single, m)
    AF.hessian(f_scalar, m)
    AF.jvp(f_single, m, m.detach())
    assert m.grad is None and m.is_leaf


# -- hessian, hvp, vhp ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("vectorize", [False, True])
@pytest.mark.parametrize("func,shapes,as_tuple", SCALAR_CASES)
def test_hessian_matches_torch(func, shapes, as_tuple, vectorize):
    m_in, t_in = _args(shapes, as_tuple)
    same(AF.hessian(func, m_in, vectorize=vectorize), TF.hessian(func, t_in, vectorize=vectorize))


@pytest.mark.parametrize("name", ["hvp", "vhp"])
@pytest.mark.parametrize("func,shapes,as_tuple", SCALAR_CASES)
def test_hvp_vhp_match_torch(func, shapes, as_tuple, name):
    m_in, t_in = _args(shapes, as_tuple)
    m_v, t_v = _v_like(t_in if as_tuple else (t_in,), as_tuple, seed=5)
    same(getattr(AF, name)(func, m_in, m_v), getattr(TF, name)(func, t_in, t_v))


def test_hvp_of_an_asymmetric_second_derivative_is_not_vhp():
    """A function whose mixed partials differ is out of reach here; hvp and vhp agree with torch's on
    each side of a non-symmetric-looking form (x^T B x has Hessian B + B^T)."""
    b = np.arange(9.0).reshape(3, 3)
    mb, tb = pair(b)
    (m,), (t,) = pairs([(3,)])
    (mv,), (tv,) = pairs([(3,)], seed=6)
    same(AF.hvp(lambda x: x @ (mb @ x), m, mv), TF.hvp(lambda x: x @ (tb @ x), t, tv))
    same(AF.vhp(lambda x: x @ (mb @ x), m, mv), TF.vhp(lambda x: x @ (tb @ x), t, tv))
    np.testing.assert_allclose(AF.hvp(lambda x: x @ (mb @ x), m, mv)[1].numpy(), (b + b.T) @ mv.numpy(), rtol=TOL)


# -- independent truths --------------------------------------------------------------------------------------
def test_jacobian_of_a_linear_map_is_its_matrix():
    rng = np.random.default_rng(7)
    a, c = rng.standard_normal((4, 3)), rng.standard_normal(4)
    ma, mc = pair(a)[0], pair(c)[0]
    x = pair(rng.standard_normal(3))[0]
    np.testing.assert_allclose(AF.jacobian(lambda v: ma @ v + mc, x).numpy(), a, rtol=TOL, atol=TOL)
    v = rng.standard_normal(3)
    w = rng.standard_normal(4)
    np.testing.assert_allclose(AF.jvp(lambda v: ma @ v + mc, x, pair(v)[0])[1].numpy(), a @ v, rtol=TOL)
    np.testing.assert_allclose(AF.vjp(lambda v: ma @ v + mc, x, pair(w)[0])[1].numpy(), a.T @ w, rtol=TOL)
    # a map of a matrix: d(A X)_{ij} / d X_{kl} = A_{ik} delta_{jl}
    xm = pair(rng.standard_normal((3, 2)))[0]
    expected = np.einsum("ik,jl->ijkl", a, np.eye(2))
    np.testing.assert_allclose(AF.jacobian(lambda X: ma @ X, xm).numpy(), expected, rtol=TOL, atol=TOL)


def test_hessian_of_a_quadratic_is_its_matrix():
    rng = np.random.default_rng(8)
    q = rng.standard_normal((3, 3))
    a = q + q.T  # f(x) = x^T A x / 2 + b^T x has Hessian A
    b = rng.standard_normal(3)
    ma, mb = pair(a)[0], pair(b)[0]
    x = pair(rng.standard_normal(3))[0]
    f = lambda x: (x @ (ma @ x)) / 2 + mb @ x  # noqa: E731
    np.testing.assert_allclose(AF.hessian(f, x).numpy(), a, rtol=TOL, atol=TOL)
    v = rng.standard_normal(3)
    np.testing.assert_allclose(AF.hvp(f, x, pair(v)[0])[1].numpy(), a @ v, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(AF.vhp(f, x, pair(v)[0])[1].numpy(), v @ a, rtol=TOL, atol=TOL)
    # two inputs: g(x, y) = x^T B y has Hessian blocks ((0, B), (B^T, 0))
    bxy = rng.standard_normal((2, 3))
    mbxy = pair(bxy)[0]
    h = AF.hessian(lambda x, y: x @ (mbxy @ y), (pair(np.ones(2))[0], pair(np.ones(3))[0]))
    assert isinstance(h, tuple) and all(isinstance(row, tuple) for row in h)
    np.testing.assert_allclose(h[0][1].numpy(), bxy, rtol=TOL)
    np.testing.assert_allclose(h[1][0].numpy(), bxy.T, rtol=TOL)
    assert not h[0][0].numpy().any() and not h[1][1].numpy().any()


# -- create_graph=True: results that can be differentiated again ---------------------------------------------
def _backward_of(results_m, results_t, m_leaves, t_leaves):
    """Differentiate sum(r^2 * c) over all results (c: fixed weights) and compare the leaves' gradients."""
    m_loss = sum(((r * r) * (i + 1.5)).sum() for i, r in enumerate(leaves(results_m)))
    t_loss = sum(((r * r) * (i + 1.5)).sum() for i, r in enumerate(leaves(results_t)))
    m_grads = minigrad.autograd.grad(m_loss, m_leaves, allow_unused=True, materialize_grads=True)
    t_grads = torch.autograd.grad(t_loss, t_leaves, allow_unused=True, materialize_grads=True)
    for a, b in zip(m_grads, t_grads):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("func,shapes,as_tuple", CASES)
def test_create_graph_vjp_jvp_jacobian(func, shapes, as_tuple):
    m_in, t_in = _args(shapes, as_tuple, requires_grad=True)
    m_leaves, t_leaves = leaves(m_in), leaves(t_in)
    outs, outs_tuple = _outputs(func, t_in, as_tuple)
    m_v, t_v = _v_like(outs, outs_tuple, seed=1)
    for mv in leaves(m_v):
        mv.requires_grad_()
    for tv in leaves(t_v):
        tv.requires_grad_()
    m_res, t_res = AF.vjp(func, m_in, m_v, create_graph=True), TF.vjp(func, t_in, t_v, create_graph=True)
    same(m_res, t_res)
    _backward_of(m_res, t_res, m_leaves + leaves(m_v), t_leaves + leaves(t_v))

    m_u, t_u = _v_like(t_in if as_tuple else (t_in,), as_tuple, seed=2)
    m_res, t_res = AF.jvp(func, m_in, m_u, create_graph=True), TF.jvp(func, t_in, t_u, create_graph=True)
    same(m_res, t_res)
    _backward_of(m_res, t_res, m_leaves, t_leaves)

    m_res, t_res = AF.jacobian(func, m_in, create_graph=True), TF.jacobian(func, t_in, create_graph=True)
    same(m_res, t_res)
    _backward_of(m_res, t_res, m_leaves, t_leaves)


@pytest.mark.parametrize("func,shapes,as_tuple", SCALAR_CASES)
def test_create_graph_hessian_hvp_vhp(func, shapes, as_tuple):
    m_in, t_in = _args(shapes, as_tuple, requires_grad=True)
    m_leaves, t_leaves = leaves(m_in), leaves(t_in)
    m_res, t_res = AF.hessian(func, m_in, create_graph=True), TF.hessian(func, t_in, create_graph=True)
    same(m_res, t_res)
    _backward_of(m_res, t_res, m_leaves, t_leaves)  # third derivatives
    m_v, t_v = _v_like(t_in if as_tuple else (t_in,), as_tuple, seed=5)
    for name in ("hvp", "vhp"):
        m_res = getattr(AF, name)(func, m_in, m_v, create_graph=True)
        t_res = getattr(TF, name)(func, t_in, t_v, create_graph=True)
        same(m_res, t_res)
        _backward_of(m_res, t_res, m_leaves, t_leaves)


def test_create_graph_on_inputs_that_need_no_grad_gives_detached_results():
    m_in, t_in = _args([(3,)], False)
    same(AF.jacobian(f_single, m_in, create_graph=True), TF.jacobian(f_single, t_in, create_graph=True))
    same(AF.hessian(f_scalar, m_in, create_graph=True), TF.hessian(f_scalar, t_in, create_graph=True))


# -- errors: torch's types and texts ------------------------------------------------------------------------
def _error(call):
    try:
        call()
    except Exception as e:  # noqa: BLE001 - the error itself is what is compared
        return type(e), str(e)
    raise AssertionError("no error raised")


def both(name, m_args, t_args, **kwargs):
    """The call of minigrad's function ``name`` and of torch's, on their own arguments, to be made later."""
    return (functools.partial(getattr(AF, name), *m_args, **kwargs),
            functools.partial(getattr(TF, name), *t_args, **kwargs))


def same_error(m_call, t_call):
    m_type, m_text = _error(m_call)
    t_type, t_text = _error(t_call)
    assert m_type is t_type, (m_type, t_type, m_text)
    assert m_text == t_text.replace("torch.", "minigrad."), (m_text, t_text)


def test_v_none_errors():
    m, t = _args([(3,)], False)
    same_error(lambda: AF.vjp(f_single, m), lambda: TF.vjp(f_single, t))
    same_error(lambda: AF.jvp(f_single, m), lambda: TF.jvp(f_single, t))
    same_error(lambda: AF.hvp(f_scalar, m), lambda: TF.hvp(f_scalar, t))
    same_error(lambda: AF.vhp(f_scalar, m), lambda: TF.vhp(f_scalar, t))
    m2, t2 = _args([(1,), (1,)], True)
    same_error(lambda: AF.jvp(f_two_in, m2), lambda: TF.jvp(f_two_in, t2))


def test_v_shape_errors():
    m, t = _args([(2, 3)], False)
    (mb,), (tb,) = pairs([(3,)])
    for name, func in (("vjp", f_single), ("jvp", f_single), ("hvp", f_scalar), ("vhp", f_scalar)):
        same_error(*both(name, (func, m, mb), (func, t, tb)))
        same_error(*both(name, (func, m, (mb, mb)), (func, t, (tb, tb))))
    m2, t2 = _args([(2, 3), (3,)], True)
    same_error(lambda: AF.jvp(f_two_in, m2, (mb,)), lambda: TF.jvp(f_two_in, t2, (tb,)))
    same_error(lambda: AF.jvp(f_two_in, m2, (mb, mb)), lambda: TF.jvp(f_two_in, t2, (tb, tb)))
    same_error(lambda: AF.vhp(f_scalar_two, m2, (mb, mb)), lambda: TF.vhp(f_scalar_two, t2, (tb, tb)))
    same_error(lambda: AF.vjp(f_multi_out, mb, (mb,)), lambda: TF.vjp(f_multi_out, tb, (tb,)))
    same_error(lambda: AF.vjp(f_multi_out, mb, [mb, mb]), lambda: TF.vjp(f_multi_out, tb, [tb, tb]))


def test_type_errors():
    m, t = _args([(3,)], False)
    same_error(lambda: AF.vjp(f_single, [m], m), lambda: TF.vjp(f_single, [t], t))
    same_error(lambda: AF.jacobian(f_single, (m, 2.0)), lambda: TF.jacobian(f_single, (t, 2.0)))
    same_error(lambda: AF.jacobian(lambda x: [x], m), lambda: TF.jacobian(lambda x: [x], t))
    same_error(lambda: AF.hessian(lambda x: (x.sum(), 1), m), lambda: TF.hessian(lambda x: (x.sum(), 1), t))
    same_error(lambda: AF.jvp(f_single, m, 1.0), lambda: TF.jvp(f_single, t, 1.0))


def test_scalar_function_errors():
    m, t = _args([(3,)], False)
    for name in ("hessian", "hvp", "vhp"):
        args = () if name == "hessian" else (m,)
        t_args = () if name == "hessian" else (t,)
        same_error(*both(name, (f_single, m, *args), (f_single, t, *t_args)))
        same_error(*both(name, (f_one_tuple, m, *args), (f_one_tuple, t, *t_args)))


STRICT_FUNCS = [
    pytest.param(lambda x, y: x.exp(), id="independent-of-y"),
    pytest.param(lambda x, y: x.detach() * 2, id="no-grad-output"),
    pytest.param(lambda x, y: x * 2 + y.sum(), id="linear"),
    pytest.param(lambda x, y: (x * x).sum() + y.sum(), id="quadratic-in-x-linear-in-y"),
    pytest.param(lambda x, y: (x * x).sum() * y.sum(), id="smooth"),
]


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("func", STRICT_FUNCS)
def test_strict_mode_matches_torch(func, create_graph):
    """Each function with strict=True: torch's error where torch raises, torch's values where it does not."""
    m_in, t_in = _args([(2,), (2,)], True, requires_grad=create_graph)
    m_v, t_v = pairs([(2,), (2,)], seed=9)
    scalar_out = torch.as_tensor(func(*t_in)).numel() == 1
    calls = [("jacobian", ()), ("jvp", ((m_v, t_v),))]
    calls.append(("vjp", ((m_v[0], t_v[0]),) if not scalar_out else ()))
    if scalar_out:
        calls += [("hessian", ()), ("hvp", ((m_v, t_v),)), ("vhp", ((m_v, t_v),))]
    for name, extra in calls:
        m_extra = tuple(e[0] for e in extra)
        t_extra = tuple(e[1] for e in extra)
        m_call, t_call = both(name, (func, m_in, *m_extra), (func, t_in, *t_extra), create_graph=create_graph,
                              strict=True)
        try:
            expected = t_call()
        except RuntimeError:
            same_error(m_call, t_call)
        else:
            same(m_call(), expected, name)


@pytest.mark.parametrize("create_graph", [False, True])
def test_strict_mode_with_a_captured_tensor(create_graph):
    """Outputs that need grad only through a tensor the function captures (not one of its inputs): the
    strict checks of the double-backward tricks (jvp's grad_outputs, hvp's grad_jacobian)."""
    mw, tw = pair([0.5, -1.5], requires_grad=True)
    (mx,), (tx,) = pairs([(2,)], requires_grad=create_graph)
    (mv,), (tv,) = pairs([(2,)], seed=10)
    def two_out(w):
        return lambda x: (x.exp(), w * 2)

    def scalar(w):
        return lambda x: (x * w).sum()

    for name, make, extra in (("jvp", two_out, ((mv,), (tv,))), ("vjp", two_out, (((mv, mv),), ((tv, tv),))),
                              ("jacobian", two_out, ((), ())), ("hvp", scalar, ((mv,), (tv,))),
                              ("vhp", scalar, ((mv,), (tv,))), ("hessian", scalar, ((), ()))):
        for strict in (True, False):
            m_call, t_call = both(name, (make(mw), mx, *extra[0]), (make(tw), tx, *extra[1]),
                                  create_graph=create_graph, strict=strict)
            try:
                expected = t_call()
            except RuntimeError:
                same_error(m_call, t_call)
            else:
                same(m_call(), expected, f"{name} strict={strict}")


def test_strict_with_vectorize_or_forward_mode_errors():
    m, t = _args([(3,)], False)
    same_error(lambda: AF.jacobian(f_single, m, strict=True, vectorize=True),
               lambda: TF.jacobian(f_single, t, strict=True, vectorize=True))
    same_error(lambda: AF.jacobian(f_single, m, strategy="forward-mode"),
               lambda: TF.jacobian(f_single, t, strategy="forward-mode"))
    same_error(lambda: AF.jacobian(f_single, m, strategy="forward-mode", strict=True, vectorize=True),
               lambda: TF.jacobian(f_single, t, strategy="forward-mode", strict=True, vectorize=True))
    same_error(lambda: AF.jacobian(f_single, m, strategy="forward-mode", create_graph=True, vectorize=True),
               lambda: TF.jacobian(f_single, t, strategy="forward-mode", create_graph=True, vectorize=True))
    same_error(lambda: AF.jacobian(f_single, m, strategy="sideways"), lambda: TF.jacobian(f_single, t, strategy="x"))
    same_error(lambda: AF.hessian(f_scalar, m, outer_jacobian_strategy="forward-mode"),
               lambda: TF.hessian(f_scalar, t, outer_jacobian_strategy="forward-mode"))
    same_error(lambda: AF.hessian(f_scalar, m, outer_jacobian_strategy="x"),
               lambda: TF.hessian(f_scalar, t, outer_jacobian_strategy="x"))


def test_signatures_match_torch():
    import inspect

    for name in ("vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"):
        ours = inspect.signature(getattr(AF, name)).parameters
        theirs = inspect.signature(getattr(TF, name)).parameters
        assert list(ours) == list(theirs), name
        assert [p.default for p in ours.values()] == [p.default for p in theirs.values()], name
    assert AF.__all__ == TF.__all__


# -- gradgradcheck -------------------------------------------------------------------------------------------
def _double(shape, seed):
    rng = np.random.default_rng(seed)
    return minigrad.tensor(rng.standard_normal(shape), dtype=minigrad.float64, requires_grad=True)


@pytest.mark.parametrize("func,shapes", [
    pytest.param(lambda x: x.tanh(), [(2, 3)], id="tanh"),
    pytest.param(lambda x: x.exp(), [(4,)], id="exp"),
    pytest.param(lambda a, b: a @ b, [(2, 3), (3, 2)], id="matmul"),
    pytest.param(lambda x: minigrad.softmax(x, dim=1), [(2, 3)], id="softmax"),
    pytest.param(lambda x, y: ((x * y).sin(), (x.exp() * y).sum()), [(3,), (3,)], id="two-outputs"),
])
def test_gradgradcheck_passes_on_smooth_ops(func, shapes):
    inputs = tuple(_double(s, i) for i, s in enumerate(shapes))
    assert gradgradcheck(func, inputs)
    assert all(t.grad is None for t in inputs)


def test_gradgradcheck_passes_on_a_small_mlp():
    minigrad.manual_seed(0)
    mlp = minigrad.nn.Sequential(minigrad.nn.Linear(3, 4), minigrad.nn.Tanh(), minigrad.nn.Linear(4, 2)).double()
    x = _double((2, 3), 1)
    assert gradgradcheck(mlp, (x,))
    assert all(p.grad is None for p in mlp.parameters())


def test_gradgradcheck_with_given_grad_outputs():
    x = _double((3,), 2)
    g = minigrad.tensor([0.5, -1.0, 2.0], dtype=minigrad.float64)  # no grad: only d/dx is checked
    assert gradgradcheck(lambda x: x.tanh(), (x,), (g,))
    assert gradgradcheck(lambda x: x.tanh(), x, g.clone().requires_grad_())


class CubeWrongSecond(minigrad.autograd.Function):
    """x^3 / 3 with a backward whose value is right but whose own derivative in x is lost (detach)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x / 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.detach() * x.detach()


class CubeRight(CubeWrongSecond):
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x * x


def test_gradgradcheck_catches_a_wrong_second_derivative():
    x = minigrad.tensor([0.3, -0.7, 1.2], dtype=minigrad.float64, requires_grad=True)
    assert gradcheck(CubeWrongSecond.apply, (x,))  # first derivatives are right
    assert gradgradcheck(CubeRight.apply, (x,))
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradgradcheck(CubeWrongSecond.apply, (x,))
    assert gradgradcheck(CubeWrongSecond.apply, (x,), raise_exception=False) is False
    tx = torch.tensor([0.3, -0.7, 1.2], dtype=torch.float64, requires_grad=True)

    class TorchCubeWrongSecond(torch.autograd.Function):
        forward = CubeWrongSecond.forward
        backward = CubeWrongSecond.backward

    assert torch.autograd.gradgradcheck(TorchCubeWrongSecond.apply, (tx,), raise_exception=False) is False


def test_gradgradcheck_options_as_torch():
    x = _double((3,), 3)
    with pytest.raises(AssertionError, match="at least one of check_fwd_over_rev or check_rev_over_rev"):
        gradgradcheck(lambda x: x.exp(), (x,), check_rev_over_rev=False, check_undefined_grad=False)
    with pytest.raises(AssertionError, match="check_undefined_grad=True requires check_rev_over_rev"):
        gradgradcheck(lambda x: x.exp(), (x,), check_rev_over_rev=False, check_fwd_over_rev=True)
    with pytest.raises(NotImplementedError, match="forward-mode"):
        gradgradcheck(lambda x: x.exp(), (x,), check_fwd_over_rev=True)
    assert gradgradcheck(lambda x: x.exp(), (x,), check_batched_grad=True, nondet_tol=1e-12, fast_mode=True,
                         check_grad_dtypes=True, gen_non_contig_grad_outputs=True, masked=False)


def test_gradcheck_accepts_torch_options_and_writes_no_grad():
    x = _double((3,), 4)
    y = _double((2, 1), 5)
    f = lambda a, b: (a.exp() * b, a.argmax())  # noqa: E731
    assert gradcheck(f, (x, y), nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=True,
                     check_batched_grad=True, check_backward_ad=True, fast_mode=True, masked=None)
    assert x.grad is None and y.grad is None
    with pytest.raises(AssertionError, match="at least one of check_forward_ad or check_backward_ad"):
        gradcheck(f, (x, y), check_backward_ad=False)
    with pytest.raises(NotImplementedError):
        gradcheck(f, (x, y), check_forward_ad=True)
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gradcheck(f, (x.detach(), y.detach()))


def test_gradcheck_output_without_grad_is_only_checked_when_none_has_one():
    """torch: outputs that need no grad are skipped; when none needs one, the numerical Jacobian must be 0."""
    x = _double((3,), 6)
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    assert gradcheck(lambda a: (a.exp(), a.detach() * 2), (x,))
    assert torch.autograd.gradcheck(lambda a: (a.exp(), a.detach() * 2), (tx,))
    with pytest.raises(GradcheckError, match="Numerical gradient for function expected to be zero"):
        gradcheck(lambda a: a.detach() * 2, (x,))
    assert gradcheck(lambda a: a.detach() * 2, (x,), raise_exception=False) is False
    assert torch.autograd.gradcheck(lambda a: a.detach() * 2, (tx,), raise_exception=False) is False
    assert gradcheck(lambda a: (a.detach() > 0).double() + a.argmax(), (x,))  # constant: zero Jacobian


def test_gradcheck_of_a_view_output():
    """The output shares memory with the perturbed input: differences are taken from copies."""
    x = _double((2, 3), 7)
    assert gradcheck(lambda a: a.reshape(3, 2), (x,))
    assert gradgradcheck(lambda a: a.reshape(3, 2) * a.t(), (x,))
