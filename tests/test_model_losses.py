"""Loss terms against values computed by hand."""
import math

import jax.numpy as jnp
import numpy as np

from ssvae import losses


def close(a, b, tol=1e-5):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


def test_bernoulli_nll_on_logits():
    # logit 0 means p = 1/2 for every pixel: log 2 per pixel whatever x is
    close(losses.bernoulli_nll(jnp.zeros((2, 3, 4, 1)), jnp.ones((2, 3, 4, 1)) * 0.3), [12 * math.log(2)] * 2)
    # x = 1 with logit l: −log sigmoid(l); x = 0: −log(1 − sigmoid(l))
    l = jnp.full((1, 1, 2, 1), 2.0)
    x = jnp.array([1.0, 0.0]).reshape(1, 1, 2, 1)
    s = 1 / (1 + math.exp(-2.0))
    close(losses.bernoulli_nll(l, x), [-math.log(s) - math.log(1 - s)])
    # stable for huge logits (no inf/nan)
    assert np.isfinite(np.asarray(losses.bernoulli_nll(jnp.full((1, 1, 1, 1), 1e4), jnp.zeros((1, 1, 1, 1))))).all()


def test_gaussian_nll_option():
    logits = jnp.zeros((1, 1, 1, 1))  # mean 0.5
    x = jnp.full((1, 1, 1, 1), 0.7)
    sigma = 0.1
    want = 0.5 * (0.2 / sigma) ** 2 + math.log(sigma) + 0.5 * math.log(2 * math.pi)
    close(losses.reconstruction_nll(logits, x, "mse", sigma), [want])


def test_kl_normal_and_between_gaussians():
    close(losses.kl_normal(jnp.zeros((1, 3)), jnp.zeros((1, 3))), [0.0])
    close(losses.kl_normal(jnp.ones((1, 3)), jnp.zeros((1, 3))), [1.5])  # 0.5·μ² per dim
    lv = math.log(4.0)
    close(losses.kl_normal(jnp.zeros((1, 1)), jnp.full((1, 1), lv)), [0.5 * (4 - 1 - lv)])
    # KL(N(1, 1) ‖ N(0, 4)) = log 2 + (1 + 1)/(2·4) − 1/2
    close(losses.kl_gaussians(jnp.ones((1, 1)), jnp.zeros((1, 1)), jnp.zeros((1,)), jnp.full((1,), lv)),
          [math.log(2) + 2 / 8 - 0.5])
    # broadcasting B×1×D against K×D gives B×K, zero where the component equals q
    m = jnp.array([[0.0, 0.0], [1.0, 1.0]])
    kl = losses.kl_gaussians(m[:, None], jnp.zeros((2, 1, 2)), m, jnp.zeros((2, 2)))
    close(kl, [[0.0, 1.0], [1.0, 0.0]])


def test_categorical_terms_and_cross_entropy():
    k = 4
    uniform = jnp.full((k,), 1 / k)
    close(losses.kl_categorical(uniform, jnp.log(uniform)), 0.0)
    close(losses.kl_categorical(jnp.eye(k)[0], jnp.log(uniform)), math.log(k))
    close(losses.cross_entropy(jnp.zeros((2, k)), jnp.array([0, 3])), [math.log(k)] * 2)
    logits = jnp.array([[2.0, 0.0]])
    close(losses.cross_entropy(logits, jnp.array([0])), [math.log(1 + math.exp(-2))])


def test_kl_warmup():
    close(losses.kl_warmup(5, 10), 0.5)
    close(losses.kl_warmup(50, 10), 1.0)
    close(losses.kl_warmup(0, 0), 1.0)


def test_mixture_kl_is_tight_bound():
    mean, logvar = jnp.array([[0.5, -0.5]]), jnp.zeros((1, 2))
    # one component: exactly the Gaussian KL, no component term
    pm, plv = jnp.zeros((1, 2)), jnp.zeros((1, 2))
    kl_z, kl_c, r = losses.mixture_kl(mean, logvar, pm, plv, jnp.zeros((1,)))
    close(kl_z, losses.kl_normal(mean, logvar))
    close(kl_c, [0.0])
    # two components: kl_z + kl_c equals −logsumexp(log π − KL_k)
    pm = jnp.array([[0.0, 0.0], [1.0, 1.0]])
    log_pi = jnp.log(jnp.array([0.3, 0.7]))
    kl_z, kl_c, r = losses.mixture_kl(mean, logvar, pm, jnp.zeros((2, 2)), log_pi)
    kls = np.array([0.25, 0.5 * (0.25 + 2.25)])
    want = -np.log(np.sum(np.exp(np.log([0.3, 0.7]) - kls)))
    close(kl_z + kl_c, [want])
    close(r.sum(-1), [1.0])


def test_class_kl_and_dirichlet():
    q = jnp.array([[0.25, 0.75]])  # M2's KL(q(y|x) ‖ p(y)), as the objective computes it
    close(losses.kl_categorical(q, jnp.log(jnp.array([0.5, 0.5]))),
          [0.25 * math.log(0.5) + 0.75 * math.log(1.5)])
    close(losses.dirichlet_neg_log_prior(jnp.log(jnp.array([0.5, 0.5])), 3.0), -2 * 2 * math.log(0.5))


def test_consistency_masks_unconfident_targets():
    clean = jnp.array([[5.0, 0.0], [0.1, 0.0]])  # confident, unconfident
    aug = jnp.zeros((2, 2))
    out = losses.consistency(clean, aug, temperature=1.0, threshold=0.9)
    p = 1 / (1 + math.exp(-5))
    want0 = p * math.log(p / 0.5) + (1 - p) * math.log((1 - p) / 0.5)
    close(out, [want0, 0.0], tol=1e-4)
    # agreeing predictions cost nothing
    close(losses.consistency(clean, clean, 1.0, 0.0), [0.0, 0.0], tol=1e-5)


def test_consistency_threshold_reads_the_confidence_before_sharpening():
    clean = jnp.array([[1.0, 0.0]])  # 73 % before sharpening, 98 % after (temperature 0.25)
    out = losses.consistency(clean, jnp.zeros((1, 2)), temperature=0.25, threshold=0.9)
    close(out, [0.0])
    assert float(losses.consistency(clean, jnp.zeros((1, 2)), 0.25, 0.7)[0]) > 0
