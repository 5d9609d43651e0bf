"""The classifier's trunk alone: one jitted gradient of q(y|x) over a batch of 320 28×28 images
(a step's 256 unlabeled and 64 labeled), stride-2 convolutions against stride-1 ones with a 2×2
max-pool (a reshape and a max, as ssvae.models.max_pool_2x2), for a few channel plans.
Milliseconds per gradient, mean of 10 after one warm-up; run beside other work, so only the
ratios within one run mean anything.

    python docs/sweeps/conv_pool_2026-12-08/trunk_timing.py
"""
import time

import flax.linen as nn
import jax
import jax.numpy as jnp

from ssvae.models import max_pool_2x2


class Trunk(nn.Module):
    plan: tuple  # (channels, "s" stride 2 | "p" stride 1 and a max-pool) per convolution

    @nn.compact
    def __call__(self, x):
        for f, how in self.plan:
            if how == "s":
                x = nn.relu(nn.Conv(f, (3, 3), strides=(2, 2), padding="SAME")(x))
            else:
                x = max_pool_2x2(nn.relu(nn.Conv(f, (3, 3), padding="SAME")(x)))
        x = x.reshape(x.shape[0], -1)
        return nn.Dense(10)(nn.relu(nn.Dense(256)(x)))


x = jnp.ones((320, 28, 28, 1))
for plan in [((32, "s"), (64, "s")), ((32, "p"), (64, "s")), ((16, "p"), (32, "p")),
             ((32, "p"), (64, "p")), ((16, "p"), (32, "p"), (64, "s"))]:
    m = Trunk(plan)
    p = m.init(jax.random.PRNGKey(0), x)
    g = jax.jit(jax.grad(lambda p, x: m.apply(p, x).sum()))
    jax.block_until_ready(g(p, x))
    t0 = time.perf_counter()
    for _ in range(10):
        jax.block_until_ready(g(p, x))
    print(plan, round((time.perf_counter() - t0) / 10 * 1000, 1), "ms", flush=True)
