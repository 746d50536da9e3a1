#!/usr/bin/python3
"""Writes the benchmark data set: 10k-value numerical reference and window (shifted), and 10k-value
categorical reference and window over 20 categories. Deterministic (fixed seed)."""
import os
import sys

import numpy as np

out = sys.argv[1] if len(sys.argv) > 1 else 'bench-data'
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(20261129)
n = 10000
np.savetxt(os.path.join(out, 'num_ref.txt'), np.round(rng.normal(0, 1, n), 4), fmt='%.4f')
np.savetxt(os.path.join(out, 'num_cur.txt'), np.round(rng.normal(0.1, 1.1, n), 4), fmt='%.4f')
cats = ['c%02d' % i for i in range(20)]
p = rng.dirichlet(np.ones(20))
q = 0.8 * p + 0.2 * rng.dirichlet(np.ones(20))
with open(os.path.join(out, 'cat_ref.txt'), 'w') as f:
    f.write('\n'.join(rng.choice(cats, n, p=p)) + '\n')
with open(os.path.join(out, 'cat_cur.txt'), 'w') as f:
    f.write('\n'.join(rng.choice(cats, n, p=q / q.sum())) + '\n')

# Performance windows: 200k joined binary pairs (label, prediction, score) and regression pairs.
m = 200000
score = np.round(rng.uniform(0, 1, m), 3)  # Rounded: ties, as real scores have.
label = (rng.uniform(0, 1, m) < score).astype(int)
pred = (score >= 0.5).astype(int)
np.savetxt(os.path.join(out, 'perf_binary.txt'), np.column_stack([label, pred, score]),
           fmt=['%d', '%d', '%.3f'])
y = rng.normal(100, 15, m)
np.savetxt(os.path.join(out, 'perf_regression.txt'),
           np.column_stack([np.round(y, 3), np.round(y + rng.normal(0, 5, m), 3)]), fmt='%.3f')

# Composite: 15 numerical and 5 categorical features, a 10k reference and a 10k window each, one row
# per line (whitespace-separated columns). The first 5 numerical and the first categorical feature
# drift. Drawn after everything above so that the files above do not change.
rows, n_num, n_cat = 10000, 15, 5
mu, sigma = rng.normal(0, 5, n_num), rng.uniform(0.5, 3, n_num)
comp_ref = rng.normal(mu, sigma, (rows, n_num))
comp_cur = rng.normal(mu, sigma, (rows, n_num))
comp_cur[:, :5] = rng.normal(mu[:5] + 0.3 * sigma[:5], 1.2 * sigma[:5], (rows, 5))
np.savetxt(os.path.join(out, 'composite_num_ref.txt'), comp_ref, fmt='%.4f')
np.savetxt(os.path.join(out, 'composite_num_cur.txt'), comp_cur, fmt='%.4f')
cat_names = ['k%02d' % i for i in range(12)]
cat_p = [rng.dirichlet(np.ones(12)) for _ in range(n_cat)]
comp_cat_ref = np.column_stack([rng.choice(cat_names, rows, p=p) for p in cat_p])
cat_q = [0.7 * p + 0.3 * np.roll(p, 3) if j == 0 else p for j, p in enumerate(cat_p)]
comp_cat_cur = np.column_stack([rng.choice(cat_names, rows, p=q / q.sum()) for q in cat_q])
np.savetxt(os.path.join(out, 'composite_cat_ref.txt'), comp_cat_ref, fmt='%s')
np.savetxt(os.path.join(out, 'composite_cat_cur.txt'), comp_cat_cur, fmt='%s')
